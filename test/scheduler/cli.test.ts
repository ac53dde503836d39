/** The scheduler from a shell: `group`, and spawn's --group / --priority / --after / --start-after, shown by list and info. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runCli, startTestDaemon, type CliResult, type TestDaemon } from '../helpers/daemon.js';
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
