/**
 * Groups and priorities, against a real daemon and real processes: per-group `parallel` limits under
 * the global --max-running, pause and resume, priority order within a group, and group_list figures.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { DaemonClient } from '../../src/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';
import { fx } from '../processes/util.js';

let d: TestDaemon;
let c: DaemonClient;
before(async () => {
  d = await startTestDaemon({ args: ['--max-running', '4'] });
  c = await d.client();
});
after(async () => {
  await d.stop({ killProcesses: true });
});

const status = async (id: string): Promise<string> => (await c.processInfo(id)).status;

test('a group runs at most `parallel` of its records; other groups fill the rest up to --max-running', async () => {
  const g = await c.groupSet({ group: 'ga', parallel: 1 });
  assert.equal(g.parallel, 1);
  const a = await Promise.all(['a1', 'a2', 'a3'].map((id) => c.spawnProcess({ cmd: [fx('sleeper.sh')], process_id: id, group: 'ga' })));
  assert.deepEqual(a.map((r) => r.status), ['running', 'queued', 'queued']);
  assert.equal(a[1]!.group, 'ga');
  assert.match((await c.processInfo('a2')).held ?? '', /group ga is full \(1 of 1 running\)/);
  // The default group is not limited by ga's limit, only by the daemon's 4.
  const b = await Promise.all(['b1', 'b2', 'b3', 'b4'].map((id) => c.spawnProcess({ cmd: [fx('sleeper.sh')], process_id: id })));
  assert.deepEqual(b.map((r) => r.status), ['running', 'running', 'running', 'queued']);
  assert.equal(b[0]!.group, 'default');
  assert.match((await c.processInfo('b4')).held ?? '', /--max-running 4/);
  const list = await c.groupList();
  const ga = list.groups.find((x) => x.group === 'ga');
  assert.deepEqual(ga, { group: 'ga', parallel: 1, paused: false, running: 1, queued: 2, waiting: 0, held: 'group ga is full (1 of 1 running)', budget_usd: null, spent_usd: 0 });
  assert.equal(list.groups.find((x) => x.group === 'default')?.running, 3);
  // A slot freed in the default group goes to its next record (ga is still full).
  await c.killProcess({ process_id: 'b1' });
  await waitFor(async () => (await status('b4')) === 'running', { what: 'b4 to start' });
  assert.equal(await status('a2'), 'queued');
  // Freed in ga: ga's next one starts.
  await c.killProcess({ process_id: 'a1' });
  await waitFor(async () => (await status('a2')) === 'running', { what: 'a2 to start' });
  assert.equal(await status('a3'), 'queued');
  // Raising the limit starts what now fits (the daemon's cap: 3 default + a2 = 4 running).
  await c.killProcess({ process_id: 'b2' });
  await c.groupSet({ group: 'ga', parallel: 0 });
  await waitFor(async () => (await status('a3')) === 'running', { what: 'a3 to start once ga is unlimited' });
  await Promise.all(['a2', 'a3', 'b3', 'b4'].map((id) => c.killProcess({ process_id: id })));
});

test('a paused group starts nothing until resumed; running ones continue', async () => {
  await c.groupSet({ group: 'gp', paused: true });
  const r = await c.spawnProcess({ cmd: [fx('print-exit.sh'), '0', 'p'], process_id: 'p1', group: 'gp' });
  assert.equal(r.status, 'queued');
  assert.equal(r.held, 'group gp is paused');
  const g = (await c.groupList()).groups.find((x) => x.group === 'gp');
  assert.equal(g?.paused, true);
  assert.equal(g?.held, 'group gp is paused');
  assert.equal((await c.waitProcess({ process_id: 'p1', timeout_s: 0.3 })).timed_out, true);
  const resumed = await c.groupSet({ group: 'gp', paused: false });
  assert.equal(resumed.paused, false);
  const done = await c.waitProcess({ process_id: 'p1', timeout_s: 10 });
  assert.equal(done.status, 'exited');
  assert.equal(done.held, undefined);
});

test('within a group, higher priority starts first, ties in order of arrival', async () => {
  await c.groupSet({ group: 'gq', parallel: 1 });
  const flag = path.join(d.dir, 'gq-go');
  await c.spawnProcess({ cmd: [fx('wait-file.sh'), flag], process_id: 'q-block', group: 'gq' });
  const order: Array<[string, number]> = [['q-low1', 0], ['q-high', 5], ['q-low2', 0], ['q-mid', 1], ['q-neg', -3], ['q-high2', 5]];
  for (const [id, priority] of order) {
    const r = await c.spawnProcess({ cmd: [fx('print-exit.sh'), '0', id], process_id: id, group: 'gq', priority });
    assert.equal(r.status, 'queued');
    assert.equal(r.priority, priority);
  }
  fs.writeFileSync(flag, '');
  const ended = await Promise.all(order.map(([id]) => c.waitProcess({ process_id: id, timeout_s: 20 })));
  const byStart = [...ended].sort((x, y) => Date.parse(x.started_at!) - Date.parse(y.started_at!) || Date.parse(x.ended_at!) - Date.parse(y.ended_at!));
  assert.deepEqual(byStart.map((r) => r.process_id), ['q-high', 'q-high2', 'q-mid', 'q-low1', 'q-low2', 'q-neg']);
  // parallel 1: each started only after the previous one ended.
  for (let i = 1; i < byStart.length; i++) assert.ok(Date.parse(byStart[i]!.started_at!) >= Date.parse(byStart[i - 1]!.ended_at!));
});

test('group_set refuses a bad name or limit with INVALID_PARAMS', async () => {
  await assert.rejects(c.groupSet({ group: 'a b', parallel: 1 }), { code: 'INVALID_PARAMS' });
  await assert.rejects(c.groupSet({ group: 'ok', parallel: -1 }), { code: 'INVALID_PARAMS' });
  await assert.rejects(c.spawnProcess({ cmd: ['true'], group: '../x' }), { code: 'INVALID_PARAMS' });
  await assert.rejects(c.spawnProcess({ cmd: ['true'], priority: 1.5 }), { code: 'INVALID_PARAMS' });
});
