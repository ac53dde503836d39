/** The scheduler from a shell: `group`, and spawn's --group / --priority / --after / --start-after, shown by list and info. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT, runCli, startTestDaemon, type CliResult, type TestDaemon } from '../helpers/daemon.js';
import { fx } from '../processes/util.js';

let d: TestDaemon;
before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d.stop({ killProcesses: true });
});

/** The CLI against this daemon; the socket comes from the environment, since `--` ends the flags. */
function cli(args: string[]): Promise<CliResult> {
  return runCli(args, { env: { CLAUDE_DAEMON_SOCKET: d.socket } });
}

test('group, spawn --group --priority --after --start-after, list and info show them', async () => {
  const set = await cli(['group', 'cli-g', '--parallel', '1']);
  assert.equal(set.code, 0, set.stderr + set.stdout);
  assert.match(set.stdout, /^cli-g: parallel 1; 0 running, 0 queued\n$/);
  const flag = path.join(d.dir, 'cli-go');
  const s1 = await cli(['spawn', '--id', 'cg1', '--group', 'cli-g', '--', fx('wait-file.sh'), flag]);
  assert.equal(s1.code, 0, s1.stderr);
  const s2 = await cli(['spawn', '--id', 'cg2', '--group', 'cli-g', '--priority=-2', '--after', 'cg1', '--after-condition', 'ended', '--', fx('print-exit.sh'), '0', 'x']);
  assert.equal(s2.code, 0, s2.stderr);
  assert.match(s2.stdout, /^cg2 queued \(waiting for cg1\): /);
  const info = await cli(['info', 'cg2']);
  assert.match(info.stdout, /group: +cli-g \(priority -2\)/);
  assert.match(info.stdout, /after: +cg1 \(ended\)/);
  assert.match(info.stdout, /held: +waiting for cg1/);
  const s3 = await cli(['spawn', '--id', 'cg3', '--start-after', '3600', '--', 'true']);
  assert.match(s3.stdout, /^cg3 queued \(not before /);
  assert.match((await cli(['list'])).stdout, /cg2 +queued .*: waiting for cg1/);
  const groups = await cli(['group']);
  assert.match(groups.stdout, /^cli-g: parallel 1; 1 running, 1 queued \(1 waiting for dependencies or a start time\)$/m);
  assert.match(groups.stdout, /^default: unlimited; 0 running, 1 queued \(1 waiting/m);
  const paused = await cli(['group', 'cli-g', '--pause', '--json']);
  assert.equal(JSON.parse(paused.stdout).paused, true);
  assert.equal((await cli(['group', 'cli-g', '--resume'])).code, 0);
  const bad = await cli(['spawn', '--after', 'nobody', '--', 'true']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /UNKNOWN_DEPENDENCY|no process with id "nobody"/);
  assert.equal((await cli(['spawn', '--priority', 'high', '--', 'true'])).code, 2);
  fs.writeFileSync(flag, '');
  assert.equal((await cli(['wait', 'cg2'])).code, 0);
  assert.equal((await cli(['kill', 'cg3'])).code, 0);
});

test('python/client.py: group_set / group_list in the library; spawn --group --after and group in its CLI', async () => {
  const runPy = (args: string[]): Promise<CliResult> => new Promise((resolve) => {
    execFile('python3', [path.join(ROOT, 'python', 'client.py'), ...args], { env: { ...process.env, CLAUDE_DAEMON_SOCKET: d.socket } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
  const set = await runPy(['group', 'py-g', '--parallel', '2', '--pause']);
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /^py-g: parallel 2, paused; 0 running, 0 queued; held: group py-g is paused\n$/);
  const s1 = await runPy(['spawn', '--id', 'pg1', '--group', 'py-g', '--priority', '-1', 'true']);
  assert.match(s1.stdout, /^pg1 queued \(group py-g is paused\): true\n$/);
  const s2 = await runPy(['spawn', '--id', 'pg2', '--after', 'pg1', '--after-condition', 'ended', '--start-after', '0', 'true']);
  assert.match(s2.stdout, /^pg2 queued \(waiting for pg1\): true\n$/);
  assert.match((await runPy(['info', 'pg1'])).stdout, /group: +py-g \(priority -1\)/);
  assert.match((await runPy(['list'])).stdout, /pg2 +queued .*: waiting for pg1/);
  const lib = await runPy(['request', 'group_list']);
  assert.ok((JSON.parse(lib.stdout) as { groups: Array<{ group: string; queued: number }> }).groups.some((g) => g.group === 'py-g' && g.queued === 1));
  assert.equal((await runPy(['group', 'py-g', '--resume'])).code, 0);
  assert.equal((await runPy(['wait', 'pg2'])).code, 0);
  const code = `import sys; sys.path.insert(0, ${JSON.stringify(path.join(ROOT, 'python'))}); import client; print(client.group_set("py-lib", parallel=3)["parallel"], [g["group"] for g in client.group_list()].count("py-lib"))`;
  const r = await new Promise<string>((resolve) => execFile('python3', ['-c', code], { env: { ...process.env, CLAUDE_DAEMON_SOCKET: d.socket } }, (_e, out, err) => resolve(out + err)));
  assert.equal(r.trim(), '3 1');
});
