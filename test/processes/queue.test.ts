import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { DaemonClient } from '../../src/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';
import { fx } from './util.js';

let d: TestDaemon;
before(async () => {
  d = await startTestDaemon({ args: ['--max-running', '2'] });
});
after(async () => {
  await d.stop();
});

async function statuses(c: DaemonClient, ids: string[]): Promise<string[]> {
  return Promise.all(ids.map(async (id) => (await c.processInfo(id)).status));
}

test('spawns beyond --max-running are queued and start in order as running ones end', async () => {
  let c = await d.client();
  const ids = ['q1', 'q2', 'q3', 'q4', 'q5'];
  for (const id of ids) {
    const r = await c.spawnProcess({ cmd: [fx('sleeper.sh')], process_id: id });
    if (id === 'q1' || id === 'q2') assert.equal(r.status, 'running');
    else {
      assert.equal(r.status, 'queued');
      assert.equal(r.pid, null);
      assert.equal(r.started_at, null);
    }
  }
  const q3out = await c.readOutput({ process_id: 'q3' });
  assert.equal(q3out.data, '');
  assert.equal(q3out.eof, false);
  assert.equal((await c.waitProcess({ process_id: 'q3', timeout_s: 0.05 })).timed_out, true);
  assert.deepEqual((await c.listProcesses()).totals, { queued: 3, running: 2, exited: 0, killed: 0, failed: 0, lost: 0 });

  await c.killProcess({ process_id: 'q1' });
  await waitFor(async () => (await c.processInfo('q3')).status === 'running', { what: 'q3 to start' });
  assert.deepEqual(await statuses(c, ids), ['killed', 'running', 'running', 'queued', 'queued']);

  // Queued records survive the daemon's death and keep their order.
  await d.kill('SIGKILL');
  await d.restart();
  c = await d.client();
  assert.deepEqual(await statuses(c, ids), ['killed', 'running', 'running', 'queued', 'queued']);

  const k5 = await c.killProcess({ process_id: 'q5' });
  assert.equal(k5.status, 'killed');
  assert.match(k5.reason ?? '', /queued/);
  await c.killProcess({ process_id: 'q2' });
  await waitFor(async () => (await c.processInfo('q4')).status === 'running', { what: 'q4 to start' });
  assert.deepEqual(await statuses(c, ids), ['killed', 'killed', 'running', 'running', 'killed']);
  const q4 = await c.processInfo('q4');
  const q3 = await c.processInfo('q3');
  assert.ok(Date.parse(q4.started_at!) >= Date.parse(q3.started_at!));
  await Promise.all(['q3', 'q4'].map((id) => c.killProcess({ process_id: id })));
});

test('a queued command that cannot start becomes failed when its turn comes', async () => {
  const c = await d.client();
  await c.spawnProcess({ cmd: [fx('sleeper.sh')], process_id: 'hold1' });
  await c.spawnProcess({ cmd: [fx('sleeper.sh')], process_id: 'hold2' });
  const r = await c.spawnProcess({ cmd: ['no-such-command-xyz'], process_id: 'qfail' });
  assert.equal(r.status, 'queued');
  const after1 = await c.spawnProcess({ cmd: ['true'], process_id: 'qafter' });
  assert.equal(after1.status, 'queued');
  await c.killProcess({ process_id: 'hold1' });
  const w = await c.waitProcess({ process_id: 'qfail', timeout_s: 10 });
  assert.equal(w.status, 'failed');
  assert.match(w.reason ?? '', /ENOENT/);
  const w2 = await c.waitProcess({ process_id: 'qafter', timeout_s: 10 });
  assert.equal(w2.status, 'exited');
  await c.killProcess({ process_id: 'hold2' });
});
