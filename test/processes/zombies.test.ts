import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';
import { zombiesUnder } from '../helpers/proc.js';
import { fdCount } from './util.js';

let d: TestDaemon;
before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d.stop();
});

test('after 1,000 spawns of a short command: no zombie children, fd count back where it started', async () => {
  const c = await d.client();
  await c.ping();
  const pid = d.proc.pid!;
  // The first spawn starts the launcher, which the daemon then keeps (two pipes): the baseline is
  // taken after it, so what is measured is what 1,000 spawns leave behind.
  await c.waitProcess({ process_id: (await c.spawnProcess({ cmd: ['true'] })).process_id });
  const fds0 = fdCount(pid);
  const ids: string[] = [];
  const N = 1000;
  const LANES = 16;
  let next = 0;
  await Promise.all(
    Array.from({ length: LANES }, async () => {
      while (next < N) {
        next++;
        const r = await c.spawnProcess({ cmd: ['true'] });
        ids.push(r.process_id);
      }
    }),
  );
  assert.equal(ids.length, N);
  await waitFor(async () => (await c.listProcesses({ status: 'running' })).processes.length === 0, { what: 'all to end', timeoutMs: 60_000 });
  const all = await c.listProcesses();
  assert.equal(all.totals['exited'], N + 1);
  assert.ok(all.processes.every((p) => p.exit_code === 0));
  await waitFor(() => zombiesUnder(pid).length === 0, { what: `no zombies (have ${zombiesUnder(pid).length})` });
  await waitFor(() => fdCount(pid) <= fds0, { what: `fd count back to ${fds0} (now ${fdCount(pid)})` });
});
