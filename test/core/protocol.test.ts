/**
 * The wire against a real daemon: every kind of bad input gets its code and leaves the connection
 * usable, ids are echoed, id-less requests are answered in order, and many clients at once are fine.
 * The daemon runs with a small line cap so REQUEST_TOO_LARGE is cheap to provoke.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { RawConn, type Reply } from '../helpers/raw.js';
import { waitFor } from '../helpers/wait.js';
import { connect } from '../../src/index.js';

const MAX_LINE = 4096;
let d: TestDaemon;
before(async () => {
  d = await startTestDaemon({ args: ['--max-line-bytes', String(MAX_LINE)] });
});
after(async () => {
  await d.stop();
});

/** Proof a connection still works: a ping with a fresh id gets its pong. */
async function stillWorks(raw: RawConn): Promise<void> {
  const r = await raw.request({ command: 'ping' });
  assert.equal(r.success, true, JSON.stringify(r));
  assert.equal((r.result as { pong: boolean }).pong, true);
}

/** Sends one raw line and returns the next reply on that connection. */
async function sendLine(raw: RawConn, line: string): Promise<Reply> {
  const n = raw.replies.length;
  raw.send(line + '\n');
  return (await raw.waitReplies(n + 1))[n]!;
}

test('a line that is not JSON gets INVALID_JSON and the connection stays usable', async () => {
  const raw = await RawConn.open(d.socket);
  const r = await sendLine(raw, '{"command": "ping"');
  assert.deepEqual([r.success, r.code], [false, 'INVALID_JSON']);
  assert.match(r.error!, /not valid JSON/);
  assert.equal(r.id, undefined);
  await stillWorks(raw);
  raw.close();
});

test('non-object requests get INVALID_REQUEST', async () => {
  const raw = await RawConn.open(d.socket);
  for (const line of ['[1,2]', '"ping"', '42', 'null', 'true']) {
    const r = await sendLine(raw, line);
    assert.deepEqual([r.success, r.code], [false, 'INVALID_REQUEST'], line);
    assert.match(r.error!, /JSON object/);
  }
  await stillWorks(raw);
  raw.close();
});

test('a missing or non-string command gets INVALID_REQUEST, echoing the id', async () => {
  const raw = await RawConn.open(d.socket);
  for (const req of [{ id: 'a' }, { id: 'b', command: 7 }, { id: 'c', command: null }, { id: 'd', command: ['ping'] }]) {
    const r = await raw.request(req);
    assert.deepEqual([r.success, r.code, r.id], [false, 'INVALID_REQUEST', req.id]);
    assert.match(r.error!, /string "command"/);
  }
  await stillWorks(raw);
  raw.close();
});

test('an id that is neither a string nor a number gets INVALID_REQUEST', async () => {
  const raw = await RawConn.open(d.socket);
  for (const id of [null, { x: 1 }, [1], true]) {
    const r = await sendLine(raw, JSON.stringify({ command: 'ping', id }));
    assert.deepEqual([r.success, r.code], [false, 'INVALID_REQUEST'], JSON.stringify(id));
    assert.match(r.error!, /"id" must be a string or a finite number/);
  }
  await stillWorks(raw);
  raw.close();
});

test('an unknown command gets UNKNOWN_COMMAND listing the known ones', async () => {
  const raw = await RawConn.open(d.socket);
  const r = await raw.request({ command: 'launch_rockets' });
  assert.deepEqual([r.success, r.code], [false, 'UNKNOWN_COMMAND']);
  assert.match(r.error!, /launch_rockets/);
  assert.match(r.error!, /known commands: .*\bping\b/);
  assert.match(r.error!, /\bshutdown\b/);
  await stillWorks(raw);
  raw.close();
});

test('a mistyped parameter gets INVALID_PARAMS naming the field and what it expected', async () => {
  const raw = await RawConn.open(d.socket);
  const r = await raw.request({ command: 'shutdown', kill_processes: 'yes' });
  assert.deepEqual([r.success, r.code], [false, 'INVALID_PARAMS']);
  assert.match(r.error!, /kill_processes/);
  assert.match(r.error!, /boolean/);
  await stillWorks(raw); // and the daemon did not shut down
  raw.close();
});

test('unknown extra parameters are ignored (additive compatibility)', async () => {
  const raw = await RawConn.open(d.socket);
  const r = await raw.request({ command: 'ping', some_future_flag: true });
  assert.equal(r.success, true);
  raw.close();
});

test('a line over the cap gets REQUEST_TOO_LARGE, then the connection is closed; others are unaffected', async () => {
  const bystander = await RawConn.open(d.socket);
  const raw = await RawConn.open(d.socket);
  const big = JSON.stringify({ command: 'ping', pad: 'x'.repeat(MAX_LINE) });
  raw.send(big.slice(0, 1000));
  raw.send(big.slice(1000) + '\n');
  const [r] = await raw.waitReplies(1);
  assert.deepEqual([r!.success, r!.code], [false, 'REQUEST_TOO_LARGE']);
  assert.match(r!.error!, new RegExp(`${MAX_LINE} bytes`));
  await waitFor(() => raw.closed, { what: 'daemon to close the connection' });
  await stillWorks(bystander);
  const fresh = await RawConn.open(d.socket);
  await stillWorks(fresh);
  fresh.close();
  bystander.close();
});

test('an endless line without a newline is refused without waiting for its end', async () => {
  const raw = await RawConn.open(d.socket);
  // Far more than the cap, in many writes: the daemon must answer and close, never buffer it all.
  for (let i = 0; i < 64 && !raw.closed; i++) raw.send('y'.repeat(1024));
  const [r] = await raw.waitReplies(1);
  assert.equal(r!.code, 'REQUEST_TOO_LARGE');
  await waitFor(() => raw.closed, { what: 'daemon to close the connection' });
  const fresh = await RawConn.open(d.socket);
  await stillWorks(fresh);
  fresh.close();
});

test('a line of exactly the cap is accepted', async () => {
  const raw = await RawConn.open(d.socket);
  const head = JSON.stringify({ command: 'ping', id: 'cap', pad: '' });
  const line = head.replace('"pad":""', `"pad":"${'z'.repeat(MAX_LINE - head.length)}"`);
  assert.equal(Buffer.byteLength(line), MAX_LINE);
  const r = await sendLine(raw, line);
  assert.deepEqual([r.success, r.id], [true, 'cap']);
  raw.close();
});

test('ids are echoed exactly, strings and numbers alike; no id means no id in the reply', async () => {
  const raw = await RawConn.open(d.socket);
  for (const id of ['abc', '', 'ünï-ĉode', 0, 7, -3.5, 2 ** 53 - 1]) {
    const r = await sendLine(raw, JSON.stringify({ command: 'ping', id }));
    assert.equal(r.success, true);
    assert.ok(Object.hasOwn(r, 'id'));
    assert.equal(r.id, id);
  }
  const r = await sendLine(raw, '{"command":"ping"}');
  assert.equal(r.success, true);
  assert.equal(Object.hasOwn(r, 'id'), false);
  raw.close();
});

test('id-less requests pipelined on one connection are answered in order, errors included', async () => {
  const raw = await RawConn.open(d.socket);
  const batch = ['{"command":"ping"}', 'nope', '{"command":"zzz"}', '[]', '{"command":"shutdown","kill_processes":1}', '{"command":"ping"}'];
  const expected = [true, 'INVALID_JSON', 'UNKNOWN_COMMAND', 'INVALID_REQUEST', 'INVALID_PARAMS', true];
  const rounds = 50;
  raw.send(Array.from({ length: rounds }, () => batch.join('\n') + '\n').join(''));
  const replies = await raw.waitReplies(batch.length * rounds);
  replies.forEach((r, i) => {
    const want = expected[i % batch.length];
    assert.equal(want === true ? r.success : r.code, want, `reply ${i}`);
  });
  raw.close();
});

test('a request split across many writes, and several in one write, all get answered', async () => {
  const raw = await RawConn.open(d.socket);
  const line = JSON.stringify({ command: 'ping', id: 'split-é' }) + '\n';
  const bytes = Buffer.from(line);
  for (let i = 0; i < bytes.length; i++) {
    raw.send(bytes.subarray(i, i + 1));
    await new Promise((r) => setImmediate(r));
  }
  const r = await waitFor(() => raw.replies.find((x) => x.id === 'split-é'), { what: 'split reply' });
  assert.equal(r.success, true);
  raw.send('{"command":"ping","id":1}\n{"command":"ping","id":2}\n{"command":"ping","id":3}\n');
  await waitFor(() => [1, 2, 3].every((id) => raw.replies.some((x) => x.id === id)), { what: 'three replies' });
  raw.close();
});

test('a client that disconnects mid-request costs nothing: the daemon keeps serving', async () => {
  for (let i = 0; i < 20; i++) {
    const s = net.createConnection(d.socket);
    await new Promise((r) => s.once('connect', r));
    s.write('{"command":"ping","id":"half');
    s.destroy();
  }
  const raw = await RawConn.open(d.socket);
  await stillWorks(raw);
  raw.close();
});

test('100 concurrent clients x 100 pings are all answered, each with its own id', async () => {
  const clients = await Promise.all(Array.from({ length: 100 }, () => connect({ socketPath: d.socket })));
  try {
    const results = await Promise.all(clients.map((c) => Promise.all(Array.from({ length: 100 }, () => c.ping()))));
    let n = 0;
    for (const rs of results) {
      for (const r of rs) {
        assert.equal(r.pong, true);
        assert.equal(r.pid, d.proc.pid);
        n++;
      }
    }
    assert.equal(n, 10_000);
  } finally {
    for (const c of clients) c.close();
  }
  // And raw: 100 connections, each 100 pipelined pings with ids, each reply carries its request's id.
  const raws = await Promise.all(Array.from({ length: 100 }, () => RawConn.open(d.socket)));
  raws.forEach((raw, c) => raw.send(Array.from({ length: 100 }, (_, i) => JSON.stringify({ command: 'ping', id: `${c}:${i}` }) + '\n').join('')));
  await Promise.all(
    raws.map(async (raw, c) => {
      const replies = await raw.waitReplies(100, 30_000);
      assert.deepEqual(
        replies.map((r) => r.id),
        Array.from({ length: 100 }, (_, i) => `${c}:${i}`),
      );
      assert.ok(replies.every((r) => r.success === true));
      raw.close();
    }),
  );
});
