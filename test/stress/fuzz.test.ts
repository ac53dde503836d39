/**
 * Protocol fuzzing, long batch: the same properties as test/reliability/fuzz.test.ts with many more
 * cases, several batches against one daemon (state left by one batch must not affect the next).
 * FUZZ_RUNS overrides the cases per property; FUZZ_SEED replays a reported failure.
 */
import { after, before, test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { FuzzConn, runFuzzBatch } from '../helpers/fuzz.js';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 400);
const SEED = process.env['FUZZ_SEED'] !== undefined ? Number(process.env['FUZZ_SEED']) : undefined;
let d: TestDaemon;
let bystander: FuzzConn;

before(async () => {
  d = await startTestDaemon();
  bystander = await FuzzConn.open(d.socket);
});
after(async () => {
  bystander.close();
  await d.stop();
});

for (const batch of [1, 2]) {
  test(`fuzz batch ${batch} (long, ${RUNS} cases per property)`, async (t) => {
    await runFuzzBatch(t, d.socket, bystander, d.proc.pid!, RUNS, SEED);
  });
}
