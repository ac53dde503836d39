/**
 * Dependencies and delays, against a real daemon and real processes: chains, a diamond, a failure
 * in the middle (skipped, transitively, with the failed dependency named), `after_condition: ended`,
 * unknown and removed dependencies, and start times (checked against the record, not slept).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { DaemonClient } from '../../src/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { fx } from '../processes/util.js';

let d: TestDaemon;
let c: DaemonClient;
before(async () => {
  d = await startTestDaemon({ args: ['--max-running', '8'] });
  c = await d.client();
});
after(async () => {
  await d.stop({ killProcesses: true });
});

const ok = (tag: string): string[] => [fx('print-exit.sh'), '0', tag];
const t = (iso: string | null): number => Date.parse(iso!);

test('a chain of depth 50 runs one after another, in order', async () => {
  const flag = path.join(d.dir, 'chain-go');
  await c.spawnProcess({ cmd: [fx('wait-file.sh'), flag], process_id: 'c0' });
  for (let i = 1; i < 50; i++) {
    const r = await c.spawnProcess({ cmd: ok(`c${i}`), process_id: `c${i}`, after: [`c${i - 1}`] });
    assert.equal(r.status, 'queued');
    assert.deepEqual(r.after, [`c${i - 1}`]);
    assert.equal(r.after_condition, 'success');
  }
  assert.equal((await c.processInfo('c7')).held, 'waiting for c6');
  fs.writeFileSync(flag, '');
  const last = await c.waitProcess({ process_id: 'c49', timeout_s: 60 });
  assert.equal(last.status, 'exited');
  const recs = (await c.listProcesses()).processes.filter((r) => /^c\d+$/.test(r.process_id));
  const byId = new Map(recs.map((r) => [r.process_id, r]));
  for (let i = 1; i < 50; i++) {
    const cur = byId.get(`c${i}`)!;
    assert.equal(cur.exit_code, 0);
    assert.ok(t(cur.started_at) >= t(byId.get(`c${i - 1}`)!.ended_at), `c${i} started before c${i - 1} ended`);
  }
});

test('a diamond: both middles wait for the top, the bottom for both middles', async () => {
  const flag = path.join(d.dir, 'diamond-go');
  await c.spawnProcess({ cmd: [fx('wait-file.sh'), flag], process_id: 'dA' });
  await c.spawnProcess({ cmd: ok('dB'), process_id: 'dB', after: ['dA'] });
  await c.spawnProcess({ cmd: [fx('wait-file.sh'), `${flag}-c`], process_id: 'dC', after: ['dA'] });
  const bottom = await c.spawnProcess({ cmd: ok('dD'), process_id: 'dD', after: ['dB', 'dC', 'dB'] });
  assert.deepEqual(bottom.after, ['dB', 'dC']);
  assert.equal(bottom.held, 'waiting for dB, dC');
  fs.writeFileSync(flag, '');
  await c.waitProcess({ process_id: 'dB', timeout_s: 20 });
  // dB is done, dC still runs: dD waits for dC only.
  assert.equal((await c.processInfo('dD')).held, 'waiting for dC');
  fs.writeFileSync(`${flag}-c`, '');
  const dd = await c.waitProcess({ process_id: 'dD', timeout_s: 20 });
  assert.equal(dd.status, 'exited');
  const [b, cc] = await Promise.all([c.processInfo('dB'), c.processInfo('dC')]);
  assert.ok(t(dd.started_at) >= Math.max(t(b.ended_at), t(cc.ended_at)));
});

test('a failure in the middle skips its dependants transitively, naming the failed one; `ended` dependants still run', async () => {
  const flag = path.join(d.dir, 'fail-go');
  await c.spawnProcess({ cmd: [fx('wait-file.sh'), flag], process_id: 'f0' });
  await c.spawnProcess({ cmd: [fx('print-exit.sh'), '3', 'f1'], process_id: 'f1', after: ['f0'] });
  await c.spawnProcess({ cmd: ok('f2'), process_id: 'f2', after: ['f1'] });
  await c.spawnProcess({ cmd: ok('f3'), process_id: 'f3', after: ['f2'] });
  await c.spawnProcess({ cmd: ok('f4'), process_id: 'f4', after: ['f3', 'f0'] });
  await c.spawnProcess({ cmd: ok('fe'), process_id: 'fe', after: ['f1'], after_condition: 'ended' });
  await c.spawnProcess({ cmd: ok('fe2'), process_id: 'fe2', after: ['f3'], after_condition: 'ended' });
  fs.writeFileSync(flag, '');
  const f4 = await c.waitProcess({ process_id: 'f4', timeout_s: 20 });
  assert.equal(f4.status, 'skipped');
  const [f1, f2, f3, fe, fe2] = await Promise.all(['f1', 'f2', 'f3', 'fe', 'fe2'].map((id) => c.waitProcess({ process_id: id, timeout_s: 20 })));
  assert.equal(f1!.exit_code, 3);
  for (const r of [f2!, f3!, f4]) {
    assert.equal(r.status, 'skipped');
    assert.equal(r.started_at, null);
    assert.equal(r.pid, null);
    assert.match(r.reason ?? '', /f1 did not succeed/);
    assert.equal(r.stdout_bytes, 0);
  }
  assert.match(f2!.reason ?? '', /^dependency f1 did not succeed \(exited 3\)/);
  assert.match(f3!.reason ?? '', /^dependency f2 was skipped \(f1 did not succeed\)/);
  // `ended` accepts any end: after the failed f1, and after the skipped f3.
  assert.equal(fe!.status, 'exited');
  assert.equal(fe2!.status, 'exited');
  const totals = (await c.listProcesses()).totals;
  assert.ok((totals['skipped'] ?? 0) >= 3);
  // A dependant spawned after its dependency failed is skipped at once.
  const late = await c.spawnProcess({ cmd: ok('late'), process_id: 'f-late', after: ['f1'] });
  assert.equal(late.status, 'skipped');
  assert.match(late.reason ?? '', /f1/);
  assert.deepEqual((await c.listProcesses({ status: 'skipped' })).processes.map((r) => r.process_id).sort(), ['f-late', 'f2', 'f3', 'f4']);
});

test('an unknown id in `after` is refused with UNKNOWN_DEPENDENCY and nothing is kept', async () => {
  await assert.rejects(c.spawnProcess({ cmd: ok('u'), process_id: 'u1', after: ['no-such-id'] }), (err: { code: string; message: string }) => {
    assert.equal(err.code, 'UNKNOWN_DEPENDENCY');
    assert.match(err.message, /no-such-id/);
    return true;
  });
  await assert.rejects(c.processInfo('u1'), { code: 'PROCESS_NOT_FOUND' });
  await assert.rejects(c.spawnProcess({ cmd: ok('u'), after_condition: 'sometimes' as 'ended' }), { code: 'INVALID_PARAMS' });
});

test('a removed dependency counts as its final status', async () => {
  await c.waitProcess({ process_id: (await c.spawnProcess({ cmd: ok('rOk'), process_id: 'rOk' })).process_id, timeout_s: 10 });
  await c.waitProcess({ process_id: (await c.spawnProcess({ cmd: [fx('print-exit.sh'), '1', 'rBad'], process_id: 'rBad' })).process_id, timeout_s: 10 });
  await c.removeProcess('rOk');
  await c.removeProcess('rBad');
  const good = await c.spawnProcess({ cmd: ok('r1'), process_id: 'r1', after: ['rOk'] });
  assert.notEqual(good.status, 'skipped');
  assert.equal((await c.waitProcess({ process_id: 'r1', timeout_s: 10 })).status, 'exited');
  const bad = await c.spawnProcess({ cmd: ok('r2'), process_id: 'r2', after: ['rBad'] });
  assert.equal(bad.status, 'skipped');
  assert.match(bad.reason ?? '', /rBad did not succeed \(exited 1\)/);
  const anyEnd = await c.spawnProcess({ cmd: ok('r3'), process_id: 'r3', after: ['rBad'], after_condition: 'ended' });
  assert.equal((await c.waitProcess({ process_id: anyEnd.process_id, timeout_s: 10 })).status, 'exited');
});

test('start_after_s and start_at hold a record until that time, then it starts', async () => {
  const before = Date.now();
  const r = await c.spawnProcess({ cmd: ok('late1'), process_id: 'late1', start_after_s: 1.5 });
  assert.equal(r.status, 'queued');
  const startAt = t(r.start_at!);
  assert.ok(startAt >= before + 1500 && startAt <= Date.now() + 1500, `start_at ${r.start_at}`);
  assert.equal(r.held, `not before ${r.start_at}`);
  const at = new Date(Date.now() + 1000).toISOString();
  const r2 = await c.spawnProcess({ cmd: ok('late2'), process_id: 'late2', start_at: at });
  assert.equal(r2.start_at, at);
  const [e1, e2] = await Promise.all([c.waitProcess({ process_id: 'late1', timeout_s: 20 }), c.waitProcess({ process_id: 'late2', timeout_s: 20 })]);
  // Never early; late by at most a wide tolerance (a loaded machine).
  assert.ok(t(e1.started_at) >= startAt, `${e1.started_at} < ${r.start_at}`);
  assert.ok(t(e1.started_at) - startAt < 5000);
  assert.ok(t(e2.started_at) >= t(at));
  assert.ok(t(e2.started_at) - t(at) < 5000);
  // A time in the past starts at once; both ways at once, or a bad time, are refused.
  const past = await c.spawnProcess({ cmd: ok('past'), process_id: 'past', start_at: '2001-01-01T00:00:00Z' });
  assert.equal(past.status, 'running');
  await assert.rejects(c.spawnProcess({ cmd: ok('x'), start_at: at, start_after_s: 1 }), { code: 'INVALID_PARAMS' });
  await assert.rejects(c.spawnProcess({ cmd: ok('x'), start_at: 'tomorrow' }), { code: 'INVALID_PARAMS' });
  // A delay and a dependency: the time counts once the dependency is done.
  const dep = await c.spawnProcess({ cmd: ok('both'), process_id: 'both', after: ['late1'], start_after_s: 0.5 });
  assert.equal((await c.waitProcess({ process_id: dep.process_id, timeout_s: 20 })).status, 'exited');
});
