/**
 * Bounded memory whatever a client pipelines (promise 5 for every command): a client that asks for
 * big replies and never reads them costs the daemon about one reply budget (~1 MiB), not the sum of
 * what it asked for. The heavy version (3 clients x 200 reads of 16 MiB) is test/stress/memory.test.ts.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { DaemonClient } from '../../src/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { bigOutput, ReadHog } from '../helpers/hog.js';
import { daemonMemory, fdCount, mib, PingPipe, probeLatency, rssOf, settledFdCount } from '../helpers/load.js';
import { RawConn } from '../helpers/raw.js';
import { waitFor } from '../helpers/wait.js';

const MiB = 1024 * 1024;
let d: TestDaemon;
let c: DaemonClient;
let pid: number;

before(async () => {
  d = await startTestDaemon();
  c = await d.client();
  pid = d.proc.pid!;
});
after(async () => {
  await d.stop();
});

/** Polls RSS until its peak has not moved for `quietMs`, i.e. the daemon has done what it will do. */
async function settledPeak(quietMs = 1500): Promise<number> {
  let peak = rssOf(pid).peak;
  let since = Date.now();
  return waitFor(
    () => {
      const now = rssOf(pid).peak;
      if (now !== peak) {
        peak = now;
        since = Date.now();
      }
      return Date.now() - since >= quietMs ? peak : undefined;
    },
    { intervalMs: 100, timeoutMs: 60_000, what: 'the daemon RSS peak to settle' },
  );
}

test('one client pipelining 30 reads of 4 MiB and never reading costs the daemon a bounded amount of memory', async () => {
  await bigOutput(c, 'big4', 4 * MiB);
  await daemonMemory(d.socket, true);
  const before = rssOf(pid).peak;
  const fdsBefore = await settledFdCount(pid);
  const hog = await ReadHog.open(d.socket, 'big4', 30, 4 * MiB);
  const good = await PingPipe.open(d.socket);
  try {
    const peak = await settledPeak();
    const lat = await probeLatency(good, 10);
    console.log(`30 pipelined 4 MiB reads, never read: RSS peak grew ${mib(peak - before)} MiB; a ping meanwhile took at most ${Math.max(...lat).toFixed(1)} ms`);
    // Before the reply budget covered read_output, the peak grew by ~400 MiB; producing one whole
    // reply at a time (no streaming) still costs ~25 MiB: four copies of one 4 MiB slice.
    assert.ok(peak - before < 16 * MiB, `RSS peak grew by ${mib(peak - before)} MiB`);
    // One read at a time holds a file open, not all 30 (plus the two connections).
    const fds = fdCount(pid) - fdsBefore;
    assert.ok(fds <= 4, `the daemon holds ${fds} more descriptors`);
    assert.ok(Math.max(...lat) < 1000, `a well-behaved ping took ${Math.max(...lat).toFixed(0)} ms`);
    assert.deepEqual(good.bad, []);
  } finally {
    good.close();
    await hog.close();
  }
});

test('a large read is streamed in pieces and arrives byte-exact, base64 and UTF-8 alike', async () => {
  // Multi-byte characters of every length, so piece boundaries fall inside characters.
  const text = Array.from({ length: 300_000 }, (_, i) => ['a', 'é', '€', '😀', '\n', '"', '\\', '\u0001'][i % 8]).join('');
  const file = path.join(d.dir, 'utf8.txt');
  fs.writeFileSync(file, text);
  await c.spawnProcess({ cmd: ['cat', file], process_id: 'utf8' });
  await c.waitProcess({ process_id: 'utf8', timeout_s: 30 });
  const bytes = Buffer.from(text);
  const raw = await RawConn.open(d.socket);
  try {
    const u = await raw.request({ command: 'read_output', process_id: 'utf8', max_bytes: 16 * MiB });
    const ur = u.result as { data: string; next_offset: number; eof: boolean; offset: number; encoding: string };
    assert.equal(ur.data, text);
    assert.deepEqual({ ...ur, data: undefined }, { data: undefined, encoding: 'utf8', offset: 0, next_offset: bytes.length, eof: true });
    // A read that stops inside a character ends before it; the next one starts at its first byte.
    const cut = bytes.indexOf(Buffer.from('😀'), 300_000) + 2;
    const partReply = await raw.request({ command: "read_output", process_id: "utf8", max_bytes: cut });
    const part = partReply.result as { data: string; next_offset: number };
    assert.equal(partReply.success, true, JSON.stringify(partReply).slice(0, 300));
    assert.equal(part.next_offset, cut - 2);
    assert.equal(part.data, bytes.subarray(0, cut - 2).toString('utf8'));
    await bigOutput(c, 'rand', 3 * MiB + 1);
    const b = (await raw.request({ command: 'read_output', process_id: 'rand', max_bytes: 16 * MiB, encoding: 'base64' })).result as { data: string; next_offset: number };
    const log = fs.readFileSync(path.join(d.home, 'processes', 'rand', 'stdout'));
    assert.equal(b.next_offset, log.length);
    assert.equal(crypto.hash('sha256', Buffer.from(b.data, 'base64')), crypto.hash('sha256', log));
    const mid = (await raw.request({ command: 'read_output', process_id: 'rand', offset: 12345, max_bytes: 2 * MiB + 7, encoding: 'base64' })).result as { data: string; next_offset: number; eof: boolean };
    assert.ok(Buffer.from(mid.data, 'base64').equals(log.subarray(12345, 12345 + 2 * MiB + 7)));
    assert.equal(mid.eof, false);
  } finally {
    raw.close();
  }
});

test('pipelined streamed reads interleaved with pings: every reply whole, in its own line, ids and id-less order kept', async () => {
  await bigOutput(c, 'big1', MiB + 5);
  const want = fs.readFileSync(path.join(d.home, 'processes', 'big1', 'stdout')).toString('base64');
  const raw = await RawConn.open(d.socket);
  try {
    const lines: string[] = [];
    for (let i = 0; i < 20; i++) {
      lines.push(JSON.stringify({ command: 'read_output', process_id: 'big1', max_bytes: 2 * MiB, encoding: 'base64', ...(i % 2 === 0 ? { id: `r${i}` } : {}) }));
      lines.push(JSON.stringify({ command: 'ping', id: `p${i}` }));
      lines.push('{"command":"ping"}');
    }
    raw.send(lines.join('\n') + '\n');
    const replies = await raw.waitReplies(60, 60_000);
    assert.equal(replies.length, 60);
    const reads = replies.filter((r) => (r.result as { data?: string } | undefined)?.data !== undefined);
    assert.equal(reads.length, 20);
    for (const r of reads) assert.equal((r.result as { data: string }).data, want);
    assert.deepEqual(replies.filter((r) => typeof r.id === 'string' && r.id.startsWith('p')).map((r) => r.id).sort(), Array.from({ length: 20 }, (_, i) => `p${i}`).sort());
    // Id-less replies (the odd reads and the bare pings) come in request order: read, ping, read, ping...
    const idless = replies.filter((r) => r.id === undefined).map((r) => ((r.result as { data?: string }).data !== undefined ? 'read' : 'ping'));
    const expected = Array.from({ length: 20 }, (_, i) => (i % 2 === 1 ? ['read', 'ping'] : ['ping'])).flat();
    assert.deepEqual(idless, expected);
  } finally {
    raw.close();
  }
});

/** Writes a module whose `big(n)` returns an n-byte string and counts its calls (`calls()`). */
async function bigModule(name: string): Promise<void> {
  fs.writeFileSync(
    path.join(d.modulesDir, `${name}.js`),
    "let n = 0;\nexport function big(bytes) { n++; return 'x'.repeat(bytes); }\nexport function calls() { return n; }\n",
  );
  await c.loadModule(name);
}

test('pipelined call_function results are bounded per connection: about 32 run while the client does not read', async () => {
  await bigModule('bigcalls');
  const sock = net.createConnection(d.socket);
  await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
  sock.on('error', () => undefined);
  sock.pause(); // Never reads a reply.
  try {
    const lines = Array.from({ length: 100 }, (_, i) => JSON.stringify({ command: 'call_function', id: i, module_name: 'bigcalls', function_name: 'big', args: [MiB] })).join('\n');
    sock.write(lines + '\n');
    // The first 32 run (each holds a slot until its reply is written); the rest wait for the client.
    await waitFor(async () => ((await c.callFunction('bigcalls', 'calls')) as number) >= 32, { timeoutMs: 30_000, what: '32 calls to run' });
    const settled = await settledPeak(1000);
    assert.ok(settled > 0);
    const ran = (await c.callFunction('bigcalls', 'calls')) as number;
    console.log(`100 pipelined 1 MiB call_function results, never read: ${ran} ran`);
    // 32 slots, plus the few replies that fit in the ~1 MiB budget (written, their slots given back).
    assert.ok(ran >= 32 && ran <= 36, `${ran} calls ran for a client that reads nothing (32 slots)`);
    // A bystander is served meanwhile, module calls included, and nothing more runs for the hog.
    assert.equal(await c.callFunction('bigcalls', 'calls'), ran);
  } finally {
    sock.destroy();
  }
});

test('a whole reply over 8 MiB is refused with REPLY_TOO_LARGE and the connection stays usable', async () => {
  await bigModule('toolarge');
  const err = await c.callFunction('toolarge', 'big', [9 * MiB]).then(
    () => assert.fail('a 9 MiB result was sent'),
    (e: unknown) => e as { code?: string; message: string },
  );
  assert.equal(err.code, 'REPLY_TOO_LARGE', err.message);
  assert.match(err.message, /read_output/);
  assert.equal(((await c.callFunction('toolarge', 'big', [1000])) as string).length, 1000);
});
