/**
 * Protocol fuzzing, quick batch (the long batch is test/stress/fuzz.test.ts): random bytes, random
 * JSON, requests with random parameters, truncated lines, invalid UTF-8, and lines at and over the
 * size limit. Every reply must be well-formed with a registered code and match the protocol model;
 * after each batch the daemon still answers and a bystander connection saw nothing of it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { DEFAULT_MAX_LINE_BYTES } from '../../src/protocol/framing.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { assertUndisturbed, assertWellFormed, FuzzConn, pingOfLength, runFuzzBatch } from '../helpers/fuzz.js';
import { waitFor } from '../helpers/wait.js';

const SMALL_LIMIT = 4096;
let d: TestDaemon;
let small: TestDaemon;
let bystander: FuzzConn;

before(async () => {
  [d, small] = await Promise.all([startTestDaemon(), startTestDaemon({ args: ['--max-line-bytes', String(SMALL_LIMIT)] })]);
  bystander = await FuzzConn.open(d.socket);
});
after(async () => {
  bystander.close();
  await Promise.all([d.stop(), small.stop()]);
});

test('fuzz batch (quick)', async (t) => {
  await runFuzzBatch(t, d.socket, bystander, d.proc.pid!, 60);
});

/** Sends one line and returns the connection once it has a reply or was closed. */
async function sendLine(socket: string, line: Buffer, cuts: number[] = []): Promise<FuzzConn> {
  const c = await FuzzConn.open(socket);
  await c.write(Buffer.concat([line, Buffer.from('\n')]), cuts);
  await waitFor(() => c.replies.length > 0 || c.closed, { what: 'a reply to a long line', timeoutMs: 20_000 });
  return c;
}

test('a line of exactly the default limit (1 MiB) is served; one byte more is refused and the connection closed', async () => {
  const at = await sendLine(d.socket, pingOfLength(DEFAULT_MAX_LINE_BYTES, 'é'));
  assert.equal(at.replies[0]?.obj['success'], true, at.replies[0]?.raw);
  at.close();
  const over = await sendLine(d.socket, pingOfLength(DEFAULT_MAX_LINE_BYTES + 1, 'x'));
  await waitFor(() => over.closed, { what: 'the daemon to close the connection' });
  assert.equal(over.replies.length, 1);
  assert.equal(over.replies[0]!.obj['code'], 'REQUEST_TOO_LARGE');
  await assertUndisturbed(d.socket, bystander, d.proc.pid!);
});

test('lines around a small limit: served up to the limit in bytes, refused beyond, however they are chunked', async () => {
  const smallBystander = await FuzzConn.open(small.socket);
  try {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: SMALL_LIMIT - 40, max: SMALL_LIMIT + 40 }), fc.constantFrom('x', 'é', '€', '😀'), fc.array(fc.nat({ max: SMALL_LIMIT + 60 }), { maxLength: 3 }), async (len, unit, cuts) => {
        const c = await sendLine(small.socket, pingOfLength(len, unit), cuts);
        try {
          for (const r of c.replies) assertWellFormed(r);
          if (len <= SMALL_LIMIT) {
            assert.equal(c.replies[0]?.obj['success'], true, `length ${len} is within the limit`);
          } else {
            assert.equal(c.replies[0]?.obj['code'], 'REQUEST_TOO_LARGE', `length ${len} is over the limit`);
            await waitFor(() => c.closed, { what: 'close after REQUEST_TOO_LARGE' });
          }
        } finally {
          c.close();
        }
      }),
      { numRuns: 80 },
    );
    await assertUndisturbed(small.socket, smallBystander, small.proc.pid!);
  } finally {
    smallBystander.close();
  }
});
