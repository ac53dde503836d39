/**
 * `list_processes` totals are kept up to date as records come, change and go (record-index.ts), not
 * counted over every record per call: a model comparison over a sequence of operations (spawn that
 * starts, spawn that queues, end, kill while queued, a claude object's cost changing, remove, clean,
 * retention, restart) checks after each step that the totals equal what a full count over the
 * records gives, and that a status-filtered or paged list returns exactly what filtering and
 * slicing the full list does.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { resolveConfig } from '../../src/daemon/config.js';
import { createLogger } from '../../src/daemon/log.js';
import { createSupervisor, type Supervisor } from '../../src/daemon/supervisor/index.js';
import { PROCESS_STATUSES, type ProcessRecord } from '../../src/protocol/schemas/processes.js';
import { tempDir } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

const dir = tempDir('cd-totals-');
const home = path.join(dir, 'home');
fs.mkdirSync(home, { recursive: true });
let sup: Supervisor | undefined;

after(async () => {
  await sup?.stop({ killProcesses: true });
});

async function open(): Promise<Supervisor> {
  const config = resolveConfig({ socket: path.join(dir, 's'), home, logToStderr: false, keepEnded: 6 });
  const s = await createSupervisor(config, createLogger(undefined, false));
  s.addTotals((r) => (r.claude === undefined ? undefined : { cost: typeof r.claude['cost'] === 'number' ? r.claude['cost'] : 0 }));
  return s;
}

/** The model: totals as a full count over the records says they must be. */
function model(records: readonly ProcessRecord[]): Record<string, number> {
  const t: Record<string, number> = { queued: 0, running: 0, exited: 0, killed: 0, failed: 0, lost: 0 };
  let units = 0;
  let runs = 0;
  for (const r of records) {
    t[r.status] = (t[r.status] ?? 0) + 1;
    if (r.claude === undefined) continue;
    runs++;
    const c = r.claude['cost'];
    if (typeof c === 'number') units += Math.round(c * 1e9);
  }
  if (runs > 0) t['cost'] = units / 1e9;
  return t;
}

function check(s: Supervisor, step: string): void {
  const full = s.list();
  assert.deepEqual(full.totals, model(full.processes), `totals after ${step}`);
  for (const st of PROCESS_STATUSES) {
    const want = full.processes.filter((r) => r.status === st).map((r) => r.process_id);
    assert.deepEqual(s.list(st).processes.map((r) => r.process_id), want, `list {status: ${st}} after ${step}`);
    assert.deepEqual(s.list(st).totals, full.totals);
  }
  // Paging by 2 visits the full list in order, exactly once.
  const paged: string[] = [];
  let cursor: string | undefined;
  for (;;) {
    const p = s.list(undefined, { limit: 2, cursor });
    paged.push(...p.processes.map((r) => r.process_id));
    if (p.next_cursor === null || p.next_cursor === undefined) break;
    cursor = p.next_cursor;
  }
  assert.deepEqual(paged, full.processes.map((r) => r.process_id), `paged list after ${step}`);
}

test('totals stay exact through spawn, end, kill, cost updates, remove, clean, retention and restart', async () => {
  sup = await open();
  let s = sup;
  check(s, 'start');
  s.setGroup('held', { paused: true });
  await s.spawn({ cmd: ['true'], process_id: 'a' });
  await s.wait('a', 20);
  check(s, 'a ended');
  await s.spawn({ cmd: ['sleep', '1000'], process_id: 'live', claude: { cost: 0.1 } });
  check(s, 'a running claude run');
  s.updateClaude('live', { cost: 0.2 });
  check(s, 'a running cost change');
  for (const id of ['q1', 'q2', 'q3']) await s.spawn({ cmd: ['true'], process_id: id, group: 'held', claude: { cost: 0.3 } });
  check(s, 'three queued');
  await s.kill('q2');
  check(s, 'a queued one killed');
  s.updateClaude('q2', { cost: 0.7 });
  check(s, 'an ended cost change');
  await s.kill('live');
  s.updateClaude('live', { cost: 0.4 });
  check(s, 'the running one killed');
  await s.spawn({ cmd: ['false'], process_id: 'f', claude: {} });
  await s.wait('f', 20);
  check(s, 'one exited 1');
  await s.remove('a');
  check(s, 'remove');
  await s.clean({ status: ['killed'] });
  check(s, 'clean killed');
  // Retention (keep 6 ended): the oldest ended go as more end.
  for (let i = 0; i < 8; i++) {
    await s.spawn({ cmd: ['true'], process_id: `r${i}`, claude: { cost: 0.01 * (i + 1) } });
    await s.wait(`r${i}`, 20);
    s.updateClaude(`r${i}`, { cost: 0.011 * (i + 1) });
  }
  await waitFor(() => s.list('exited').processes.length + s.list('failed').processes.length <= 6, { what: 'retention' });
  check(s, 'retention');
  s.setGroup('held', { paused: false });
  await waitFor(() => s.list('queued').processes.length === 0 && s.list('running').processes.length === 0, { what: 'queue drained' });
  check(s, 'queue drained');
  s.setGroup('held', { paused: true });
  await s.spawn({ cmd: ['true'], process_id: 'q4', group: 'held', claude: { cost: 1.5 } });
  await s.spawn({ cmd: ['sleep', '1000'], process_id: 'live2', claude: { cost: 0.5 } });
  const before = s.list();
  check(s, 'before restart');
  await s.stop({ killProcesses: false });
  sup = undefined;
  sup = await open();
  s = sup;
  assert.deepEqual(s.list().processes.map((r) => r.process_id), before.processes.map((r) => r.process_id));
  check(s, 'restart');
  await s.kill('live2');
  await s.kill('q4');
  check(s, 'after restart, all ended');
  await s.clean({});
  check(s, 'clean all');
  assert.deepEqual(s.list().totals, { queued: 0, running: 0, exited: 0, killed: 0, failed: 0, lost: 0 });
});
