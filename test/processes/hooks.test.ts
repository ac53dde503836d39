/**
 * The supervisor's hooks for other domains (the claude observer builds on them), exercised
 * in-process against real children: spawn(spec) with a claude object, the spawned/ended events,
 * updateClaude persistence, a kill planner's ladder, and totals contributors.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { resolveConfig } from '../../src/daemon/config.js';
import { createLogger } from '../../src/daemon/log.js';
import { createSupervisor, type Supervisor } from '../../src/daemon/supervisor/index.js';
import type { ProcessRecord } from '../../src/protocol/schemas/processes.js';
import { waitFor } from '../helpers/wait.js';
import { fx } from './util.js';
import { tempDir } from '../helpers/daemon.js';

let sup: Supervisor;
let home: string;
const spawned: Array<{ record: ProcessRecord; adopted: boolean; stdoutPath: string }> = [];
const ended: ProcessRecord[] = [];

before(async () => {
  const dir = tempDir('cd-hooks-');
  home = path.join(dir, 'home');
  fs.mkdirSync(home, { recursive: true });
  const config = resolveConfig({ socket: path.join(dir, 's'), home, logToStderr: false });
  sup = await createSupervisor(config, createLogger(undefined, false));
  sup.on('spawned', (record, info) => spawned.push({ record: { ...record }, adopted: info.adopted, stdoutPath: info.stdoutPath }));
  sup.on('ended', (record) => ended.push({ ...record }));
  sup.addKillPlanner((e, req) =>
    e.record.claude !== undefined && req.signal === undefined
      ? [
          { signal: 'SIGINT', delay_ms: 0 },
          { signal: 'SIGTERM', delay_ms: (req.grace_s ?? 5) * 1000 },
          { signal: 'SIGKILL', delay_ms: 2000 },
        ]
      : undefined,
  );
  sup.addTotals((r) => ({ total_cost_usd: typeof r.claude?.['cost'] === 'number' ? r.claude['cost'] : 0 }));
});
after(async () => {
  await sup.stop({ killProcesses: true });
});

test('spawn(spec) carries a claude object; events report start and end with the output path', async () => {
  const r = await sup.spawn({ cmd: [fx('print-exit.sh'), '0', 'hooks'], process_id: 'h1', claude: { state: 'starting' } });
  assert.deepEqual(r.claude, { state: 'starting' });
  await sup.wait('h1', 10);
  const s = spawned.find((x) => x.record.process_id === 'h1');
  assert.ok(s);
  assert.equal(s.adopted, false);
  assert.equal(fs.readFileSync(s.stdoutPath, 'utf8'), 'out:hooks\n');
  assert.equal(ended.filter((x) => x.process_id === 'h1').length, 1);
  assert.equal(ended.find((x) => x.process_id === 'h1')?.status, 'exited');
});

test('updateClaude persists the object with the record; totals contributors add figures', async () => {
  await sup.spawn({ cmd: ['true'], process_id: 'hc', claude: { state: 'starting' } });
  await sup.wait('hc', 10);
  sup.updateClaude('hc', { state: 'done', cost: 0.25 });
  assert.deepEqual(sup.get('hc').claude, { state: 'done', cost: 0.25 });
  const file = path.join(home, 'processes', 'hc', 'record.json');
  await waitFor(() => (JSON.parse(fs.readFileSync(file, 'utf8')) as { record: ProcessRecord }).record.claude?.['state'] === 'done', { what: 'claude object on disk' });
  assert.equal(sup.list().totals['total_cost_usd'], 0.25);
});

test("a kill planner's ladder applies when no signal is given; an explicit signal bypasses it", async () => {
  await sup.spawn({ cmd: [fx('trap-int.sh')], process_id: 'h2', claude: {} });
  await waitFor(() => fs.readFileSync(sup.outputPath('h2', 'stdout'), 'utf8').includes('ready'), { what: 'ready' });
  const r = await sup.kill('h2', { grace_s: 5, reason: 'stalled' });
  assert.equal(r.status, 'exited');
  assert.equal(r.exit_code, 0);
  assert.equal(r.reason, 'stalled');
  assert.match(fs.readFileSync(sup.outputPath('h2', 'stdout'), 'utf8'), /got-int/);
  await sup.spawn({ cmd: [fx('trap-int.sh')], process_id: 'h3', claude: {} });
  await waitFor(() => fs.readFileSync(sup.outputPath('h3', 'stdout'), 'utf8').includes('ready'), { what: 'ready' });
  const k = await sup.kill('h3', { signal: 'SIGKILL' });
  assert.equal(k.signal, 'SIGKILL');
});
