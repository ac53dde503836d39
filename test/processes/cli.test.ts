import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runCli, startTestDaemon, type CliResult, type TestDaemon } from '../helpers/daemon.js';
import { fx } from './util.js';

let d: TestDaemon;
before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d.stop();
});

/** The CLI against this daemon; the socket comes from the environment, since `--` ends the flags. */
function cli(args: string[]): Promise<CliResult> {
  return runCli(args, { env: { CLAUDE_DAEMON_SOCKET: d.socket } });
}

test('spawn --json prints the record; wait mirrors the exit code', async () => {
  const s = await cli(['spawn', '--json', '--id', 'c1', '--', fx('print-exit.sh'), '3', 'cli']);
  assert.equal(s.code, 0, s.stderr);
  const rec = JSON.parse(s.stdout) as { process_id: string; status: string };
  assert.equal(rec.process_id, 'c1');
  assert.equal(rec.status, 'running');
  const w = await cli(['wait', 'c1']);
  assert.equal(w.code, 3);
  assert.match(w.stdout, /c1 exited 3/);
  const wj = await cli(['wait', 'c1', '--json']);
  assert.equal(wj.code, 3);
  assert.equal((JSON.parse(wj.stdout) as { exit_code: number }).exit_code, 3);
});

test('spawn without --json prints the id; options reach the child', async () => {
  const s = await cli(['spawn', '--id', 'c2', '--cwd', '/tmp', '--env', 'GREETING=hi', '--stdin', 'abc', '--', fx('cat-stdin.sh')]);
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stdout, /^c2 running \(pid \d+\)/);
  assert.equal((await cli(['wait', 'c2'])).code, 0);
  assert.equal((await cli(['logs', 'c2'])).stdout, 'abc');
  const err = await cli(['logs', 'c2', '--stderr']);
  assert.match(err.stdout, /cwd:\/tmp\ngreeting:hi\n/);
});

test('wait: 128+N when signal N killed it, 124 when --timeout passes first', async () => {
  await cli(['spawn', '--id', 'c3', '--', fx('sleeper.sh')]);
  const t = await cli(['wait', 'c3', '--timeout', '0.1']);
  assert.equal(t.code, 124);
  assert.match(t.stdout, /timed out/);
  const k = await cli(['kill', 'c3']);
  assert.equal(k.code, 0);
  assert.match(k.stdout, /c3 killed SIGTERM/);
  assert.equal((await cli(['wait', 'c3'])).code, 143);
  const k9 = await cli(['spawn', '--id', 'c4', '--', fx('sleeper.sh')]);
  assert.equal(k9.code, 0);
  assert.equal((await cli(['kill', 'c4', '--signal', 'KILL', '--json'])).code, 0);
  assert.equal((await cli(['wait', 'c4'])).code, 137);
});

test('kill ID ID...: several at once (one kill_process with process_ids), one line each', async () => {
  for (const id of ['ck1', 'ck2']) assert.equal((await cli(['spawn', '--id', id, '--', fx('sleeper.sh')])).code, 0);
  const k = await cli(['kill', 'ck1', 'ck2']);
  assert.equal(k.code, 0, k.stderr);
  assert.match(k.stdout, /^ck1 killed SIGTERM.*\nck2 killed SIGTERM/);
  const again = await cli(['kill', 'ck2', 'ck1', '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual((JSON.parse(again.stdout) as { processes: Array<{ process_id: string }> }).processes.map((p) => p.process_id), ['ck2', 'ck1']);
  const missing = await cli(['kill', 'ck1', 'ck-nope']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /PROCESS_NOT_FOUND/);
});

test('logs --tail N and --follow', async () => {
  await cli(['spawn', '--id', 'c5', '--', 'sh', '-c', 'for i in 1 2 3 4 5; do echo line$i; done']);
  await cli(['wait', 'c5']);
  assert.equal((await cli(['logs', 'c5', '--tail', '2'])).stdout, 'line4\nline5\n');
  await cli(['spawn', '--id', 'c6', '--', 'sh', '-c', 'echo first; sleep 0.5; echo second']);
  const f = await cli(['logs', 'c6', '--follow']);
  assert.equal(f.code, 0);
  assert.equal(f.stdout, 'first\nsecond\n');
});

test('list shows a table a person can read, and --json the full reply', async () => {
  await cli(['spawn', '--id', 'l1', '--', fx('print-exit.sh'), '3', 'cli']);
  assert.equal((await cli(['wait', 'l1'])).code, 3);
  const l = await cli(['list']);
  assert.equal(l.code, 0);
  const lines = l.stdout.trim().split('\n');
  assert.match(lines[0]!, /^ID\s+STATUS\s+PID\s+TIME\s+COMMAND$/);
  assert.ok(lines.some((x) => /^l1\s+exited 3\s+\d+\s+\S+\s+.*print-exit\.sh 3 cli$/.test(x)), l.stdout);
  assert.match(lines.at(-1)!, /exited/);
  const j = JSON.parse((await cli(['list', '--json'])).stdout) as { processes: Array<{ process_id: string }>; totals: Record<string, number> };
  assert.ok(j.processes.length >= 1);
  for (const p of j.processes) assert.ok(lines.some((x) => x.startsWith(`${p.process_id} `)), `${p.process_id} is in the table too`);
  const k = await cli(['list', '--status', 'killed', '--json']);
  assert.ok((JSON.parse(k.stdout) as { processes: Array<{ status: string }> }).processes.every((p) => p.status === 'killed'));
});

test('info, rm, and errors: unknown id exits 1, usage mistakes exit 2', async () => {
  await cli(['spawn', '--id', 'i1', '--', fx('print-exit.sh'), '3', 'cli']);
  assert.equal((await cli(['wait', 'i1'])).code, 3);
  const i = await cli(['info', 'i1']);
  assert.equal(i.code, 0);
  assert.match(i.stdout, /status:\s+exited 3/);
  assert.equal(JSON.parse((await cli(['info', 'i1', '--json'])).stdout).exit_code, 3);
  assert.equal((await cli(['rm', 'i1'])).code, 0);
  const gone = await cli(['info', 'i1']);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /PROCESS_NOT_FOUND/);
  assert.equal((await cli(['spawn'])).code, 2);
  assert.equal((await cli(['info'])).code, 2);
  assert.equal((await cli(['wait', 'c2', '--timeout', 'soon'])).code, 2);
  assert.equal((await cli(['spawn', '--env', 'NOEQUALS', '--', 'true'])).code, 2);
  assert.equal((await cli(['list', '--status', 'bogus'])).code, 2);
  const failed = await cli(['spawn', '--', 'no-such-command-xyz']);
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /SPAWN_FAILED/);
  await cli(['spawn', '--id', 'c7', '--', fx('sleeper.sh')]);
  const busy = await cli(['rm', 'c7']);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /PROCESS_RUNNING/);
  await cli(['kill', 'c7']);
});
