/**
 * Retries with real processes: a failing command is started again after its backoff (windows
 * checked from the attempts' own times, never by sleeping), `on` narrows what counts, waiters and
 * dependants see only the final attempt, each attempt's output stays apart, and the pending retry
 * survives a daemon SIGKILL (the remaining attempts happen exactly once).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { DaemonClient } from '../../src/index.js';
import type { ProcessRecord } from '../../src/protocol/schemas/processes.js';
import { ROOT, runCli, startTestDaemon, type CliResult, type TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

let d: TestDaemon;
let c: DaemonClient;
before(async () => {
  d = await startTestDaemon();
  c = await d.client();
});
after(async () => {
  await d?.stop({ killProcesses: true });
});

/** The CLI against this daemon; the socket comes from the environment, since `--` ends the flags. */
function cli(args: string[]): Promise<CliResult> {
  return runCli(args, { env: { CLAUDE_DAEMON_SOCKET: d.socket } });
}

/** A command that counts its runs in `file`, prints "run N", and succeeds from run `okFrom` on (else exits `code`). */
function counter(file: string, okFrom: number, code = 3): string[] {
  return ['sh', '-c', `n=$(cat "$1" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$1"; echo "run $n"; echo "err $n" >&2; [ $n -ge ${okFrom} ] || exit ${code}`, 'counter', file];
}

function runs(file: string): number {
  return Number(fs.readFileSync(file, 'utf8').trim());
}

/** Gap in ms between attempt i's end and attempt i+1's start. */
function gap(rec: ProcessRecord, i: number): number {
  const a = rec.attempts!;
  return Date.parse(a[i + 1]!.started_at!) - Date.parse(a[i]!.ended_at!);
}

test('retry: fails twice, then succeeds: exactly 3 runs, exited 0, 3 attempts, backoff windows 1 s then 2 s', async () => {
  const file = path.join(d.dir, 'count-a');
  const spawned = await c.spawnProcess({ cmd: counter(file, 3), process_id: 'ra', retry: { max: 2, backoff_s: 1, backoff_factor: 2 } });
  assert.deepEqual(spawned.retry, { max: 2, backoff_s: 1, backoff_factor: 2, max_backoff_s: 300, on: null, resume: false });
  const rec = await c.waitProcess({ process_id: 'ra', timeout_s: 60 });
  assert.equal(rec.status, 'exited');
  assert.equal(rec.exit_code, 0);
  assert.equal(runs(file), 3);
  const a = rec.attempts!;
  assert.deepEqual(a.map((x) => [x.attempt, x.status, x.exit_code]), [[1, 'exited', 3], [2, 'exited', 3], [3, 'exited', 0]]);
  assert.equal(rec.retry_at, undefined);
  // Backoff: at least 1 s, then 2 s (jitter only lengthens, by at most 10%; generous upper bounds).
  assert.ok(gap(rec, 0) >= 1000 && gap(rec, 0) < 1000 * 1.1 + 5000, `gap 1: ${gap(rec, 0)} ms`);
  assert.ok(gap(rec, 1) >= 2000 && gap(rec, 1) < 2000 * 1.1 + 5000, `gap 2: ${gap(rec, 1)} ms`);
  // Each attempt's output apart: the latest as today, earlier ones by `attempt`.
  assert.equal((await c.readOutput({ process_id: 'ra' })).data, 'run 3\n');
  assert.equal((await c.readOutput({ process_id: 'ra', attempt: 1 })).data, 'run 1\n');
  assert.equal((await c.readOutput({ process_id: 'ra', attempt: 2, stream: 'stderr' })).data, 'err 2\n');
  assert.equal((await c.readOutput({ process_id: 'ra', attempt: 3 })).data, 'run 3\n');
  await assert.rejects(c.readOutput({ process_id: 'ra', attempt: 4 }), { code: 'INVALID_PARAMS' });
});

test('retry: while waiting it is queued with a held reason; wait_process and a dependant see only the final attempt', async () => {
  const file = path.join(d.dir, 'count-b');
  await c.spawnProcess({ cmd: counter(file, 2), process_id: 'rb', retry: { max: 3, backoff_s: 2 } });
  const dep = await c.spawnProcess({ cmd: ['sh', '-c', 'echo dependant ran >> "$1"', 'x', path.join(d.dir, 'dep-b')], process_id: 'rb-dep', after: ['rb'] });
  assert.equal(dep.status, 'queued');
  const waited = c.waitProcess({ process_id: 'rb', timeout_s: 60 });
  const queued = await waitFor(async () => {
    const r = await c.processInfo('rb');
    return r.status === 'queued' && r.attempts?.length === 1 ? r : undefined;
  }, { timeoutMs: 20_000, what: 'rb queued for its retry' });
  assert.match(queued.held ?? '', /^retry 1 of 3 at \d\d:\d\d:\d\d UTC$/);
  assert.ok(queued.retry_at !== undefined);
  assert.equal((await c.processInfo('rb-dep')).status, 'queued');
  const rec = await waited;
  assert.equal(rec.status, 'exited');
  assert.equal(rec.exit_code, 0);
  assert.equal(rec.attempts!.length, 2);
  const depDone = await c.waitProcess({ process_id: 'rb-dep', timeout_s: 30 });
  assert.equal(depDone.status, 'exited');
  assert.equal(fs.readFileSync(path.join(d.dir, 'dep-b'), 'utf8'), 'dependant ran\n');
  assert.ok(Date.parse(depDone.started_at!) >= Date.parse(rec.ended_at!));
});

test('retry.on narrows: an exit code not in the list is not retried; one in it is', async () => {
  const f1 = path.join(d.dir, 'count-c1');
  const r1 = await c.spawnProcess({ cmd: counter(f1, 9, 3), process_id: 'rc1', retry: { max: 2, backoff_s: 0, on: [4, 'timeout'] } });
  assert.deepEqual(r1.retry?.on, [4, 'timeout']);
  const e1 = await c.waitProcess({ process_id: 'rc1', timeout_s: 30 });
  assert.equal(e1.exit_code, 3);
  assert.equal(runs(f1), 1);
  assert.deepEqual(e1.attempts!.map((a) => a.exit_code), [3]);
  const f2 = path.join(d.dir, 'count-c2');
  await c.spawnProcess({ cmd: counter(f2, 9, 4), process_id: 'rc2', retry: { max: 2, backoff_s: 0, on: [4] } });
  const e2 = await c.waitProcess({ process_id: 'rc2', timeout_s: 30 });
  assert.equal(e2.exit_code, 4);
  assert.equal(runs(f2), 3);
  assert.equal(e2.attempts!.length, 3);
});

test('retry: a timeout is retried only with on: ["timeout"]; a kill_process never', async () => {
  const sleeper = (file: string): string[] => ['sh', '-c', 'n=$(cat "$1" 2>/dev/null || echo 0); echo $((n+1)) > "$1"; exec sleep 30', 'x', file];
  const f1 = path.join(d.dir, 'count-t1');
  await c.spawnProcess({ cmd: sleeper(f1), process_id: 'rt1', timeout_s: 0.3, retry: { max: 2, backoff_s: 0 } });
  const e1 = await c.waitProcess({ process_id: 'rt1', timeout_s: 30 });
  assert.equal(e1.status, 'killed');
  assert.equal(runs(f1), 1);
  const f2 = path.join(d.dir, 'count-t2');
  await c.spawnProcess({ cmd: sleeper(f2), process_id: 'rt2', timeout_s: 0.3, retry: { max: 1, backoff_s: 0, on: ['timeout'] } });
  const e2 = await c.waitProcess({ process_id: 'rt2', timeout_s: 30 });
  assert.equal(e2.status, 'killed');
  assert.equal(runs(f2), 2);
  assert.deepEqual(e2.attempts!.map((a) => a.status), ['killed', 'killed']);
  assert.match(e2.attempts![0]!.reason ?? '', /timeout_s/);
  const f3 = path.join(d.dir, 'count-t3');
  await c.spawnProcess({ cmd: sleeper(f3), process_id: 'rt3', retry: { max: 2, backoff_s: 0, on: ['timeout', 143, 137] } });
  await waitFor(() => fs.existsSync(f3), { what: 'rt3 running' });
  const k = await c.killProcess({ process_id: 'rt3', grace_s: 1 });
  assert.equal(k.status, 'killed');
  assert.equal(runs(f3), 1);
});

test('retry: SIGKILL of the daemon between attempts: after restart the remaining attempts happen once', async () => {
  const d2 = await startTestDaemon();
  try {
    let c2 = await d2.client();
    const file = path.join(d2.dir, 'count-k');
    await c2.spawnProcess({ cmd: counter(file, 3), process_id: 'rk', retry: { max: 3, backoff_s: 2, backoff_factor: 1 } });
    const queued = await waitFor(async () => {
      const r = await c2.processInfo('rk');
      return r.status === 'queued' && r.attempts?.length === 1 ? r : undefined;
    }, { timeoutMs: 20_000, what: 'rk queued for its retry' });
    await d2.kill('SIGKILL');
    await d2.restart();
    c2 = await d2.client();
    const back = await c2.processInfo('rk');
    assert.equal(back.retry_at, queued.retry_at);
    assert.deepEqual(back.attempts, queued.attempts);
    const rec = await c2.waitProcess({ process_id: 'rk', timeout_s: 60 });
    assert.equal(rec.status, 'exited');
    assert.equal(rec.exit_code, 0);
    assert.equal(runs(file), 3);
    assert.deepEqual(rec.attempts!.map((a) => a.attempt), [1, 2, 3]);
    assert.ok(Date.parse(rec.attempts![1]!.started_at!) >= Date.parse(queued.retry_at!));
    assert.equal((await c2.readOutput({ process_id: 'rk', attempt: 1 })).data, 'run 1\n');
    assert.equal((await c2.readOutput({ process_id: 'rk' })).data, 'run 3\n');
  } finally {
    await d2.stop({ killProcesses: true });
  }
});

test('retry: bad parameters are refused with INVALID_PARAMS', async () => {
  await assert.rejects(c.spawnProcess({ cmd: ['true'], retry: { max: 0 } }), { code: 'INVALID_PARAMS' });
  await assert.rejects(c.spawnProcess({ cmd: ['true'], retry: { max: 2, on: ['sometimes' as 'stall'] } }), { code: 'INVALID_PARAMS' });
  await assert.rejects(c.spawnProcess({ cmd: ['true'], retry: { max: 2, backoff_factor: 0.5 } }), { code: 'INVALID_PARAMS' });
});

test('retry from the CLI: spawn --retry --retry-backoff --retry-on, and logs --attempt', async () => {
  const file = path.join(d.dir, 'count-cli');
  const s = await cli(['spawn', '--id', 'rcli', '--retry', '2', '--retry-backoff', '0', '--retry-on', '5,timeout', '--', ...counter(file, 2, 5)]);
  assert.equal(s.code, 0, s.stderr);
  const rec = await c.waitProcess({ process_id: 'rcli', timeout_s: 30 });
  assert.deepEqual(rec.retry, { max: 2, backoff_s: 0, backoff_factor: 2, max_backoff_s: 300, on: [5, 'timeout'], resume: false });
  assert.deepEqual(rec.attempts!.map((a) => a.exit_code), [5, 0]);
  const l1 = await cli(['logs', 'rcli', '--attempt', '1']);
  assert.equal(l1.stdout, 'run 1\n');
  assert.equal((await cli(['logs', 'rcli'])).stdout, 'run 2\n');
  const bad = await cli(['spawn', '--retry-on', '5', '--', 'true']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--retry-on needs --retry N/);
});

test('retry from python/client.py: spawn --retry --retry-on, logs --attempt', async () => {
  const file = path.join(d.dir, 'count-py');
  const py = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      execFile('python3', [path.join(ROOT, 'python', 'client.py'), ...args], { env: { ...process.env, CLAUDE_DAEMON_SOCKET: d.socket }, timeout: 30_000 }, (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
      });
    });
  const s = await py(['spawn', '--id', 'rpy', '--retry', '1', '--retry-backoff', '0', '--retry-on', '6', '--', ...counter(file, 2, 6)]);
  assert.equal(s.code, 0, s.stderr);
  const rec = await c.waitProcess({ process_id: 'rpy', timeout_s: 30 });
  assert.deepEqual(rec.attempts!.map((a) => a.exit_code), [6, 0]);
  assert.deepEqual(rec.retry?.on, [6]);
  assert.equal((await py(['logs', 'rpy', '--attempt', '1'])).stdout, 'run 1\n');
  const bad = await py(['spawn', '--retry-resume', '--', 'true']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--retry-resume needs --retry N/);
});

test('retry with no backoff, 20 records at once: every attempt runs and fails as itself (none lost or failed to start)', async () => {
  const ids = Array.from({ length: 20 }, (_, i) => `rz${i}`);
  await Promise.all(ids.map((id) => c.spawnProcess({ cmd: ['sh', '-c', 'exit 4'], process_id: id, retry: { max: 3, backoff_s: 0 } })));
  const recs = await Promise.all(ids.map((id) => c.waitProcess({ process_id: id, timeout_s: 120 })));
  for (const r of recs) assert.deepEqual(r.attempts!.map((a) => `${a.status} ${a.exit_code}`), ['exited 4', 'exited 4', 'exited 4', 'exited 4'], r.process_id);
});

test('retry: the timeout kill of a failed attempt never reaches the next attempt (its SIGKILL step stops with the attempt)', async () => {
  const file = path.join(d.dir, 'count-tk');
  // Attempt 1 outlives timeout_s (SIGTERM; the kill ladder's SIGKILL would follow 5 s later);
  // attempt 2 starts at once and needs 6 s, within its own timeout_s.
  const cmd = ['sh', '-c', 'n=$(cat "$1" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$1"; if [ $n -eq 1 ]; then exec sleep 30; fi; sleep 6; echo done', 'x', file];
  await c.spawnProcess({ cmd, process_id: 'rtk', timeout_s: 6.5, retry: { max: 1, backoff_s: 0, on: ['timeout'] } });
  const rec = await c.waitProcess({ process_id: 'rtk', timeout_s: 60 });
  assert.deepEqual(rec.attempts!.map((a) => `${a.status} ${a.signal ?? a.exit_code}`), ['killed SIGTERM', 'exited 0']);
});
