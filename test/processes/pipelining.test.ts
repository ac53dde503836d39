import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { RawConn } from '../helpers/raw.js';
import { waitFor } from '../helpers/wait.js';
import { fx } from './util.js';

let d: TestDaemon;
before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d.stop();
});

test('on one connection, pings are answered while waits are in flight; waits complete out of order', async () => {
  const raw = await RawConn.open(d.socket);
  const sp = await raw.request({ command: 'spawn_process', cmd: [fx('sleeper.sh')], process_id: 'long' });
  assert.equal(sp.success, true);
  await raw.request({ command: 'spawn_process', cmd: [fx('sleeper.sh'), '0.2', '4'], process_id: 'short' });
  raw.send(JSON.stringify({ command: 'wait_process', process_id: 'long', id: 'w-long' }) + '\n');
  raw.send(JSON.stringify({ command: 'wait_process', process_id: 'short', id: 'w-short' }) + '\n');
  for (let i = 0; i < 5; i++) {
    const p = await raw.request({ command: 'ping', id: `p${i}` });
    assert.equal(p.success, true);
  }
  assert.equal(raw.replies.find((r) => r.id === 'w-long'), undefined, 'the long wait must still be pending');
  const short = await waitFor(() => raw.replies.find((r) => r.id === 'w-short'), { what: 'short wait reply' });
  assert.equal((short.result as { exit_code: number }).exit_code, 4);
  assert.equal(raw.replies.find((r) => r.id === 'w-long'), undefined);
  const kill = await raw.request({ command: 'kill_process', process_id: 'long', id: 'k' });
  assert.equal((kill.result as { status: string }).status, 'killed');
  const long = await waitFor(() => raw.replies.find((r) => r.id === 'w-long'), { what: 'long wait reply' });
  assert.equal((long.result as { signal: string }).signal, 'SIGTERM');
  const order = raw.replies.map((r) => r.id);
  assert.ok(order.indexOf('w-short') < order.indexOf('w-long'));
  raw.close();
});

test('waits abandoned by their client, and timed-out waits, leave nothing behind', async () => {
  const raw0 = await RawConn.open(d.socket);
  await raw0.request({ command: 'spawn_process', cmd: [fx('sleeper.sh')], process_id: 'target' });
  for (let i = 0; i < 30; i++) {
    const r = await raw0.request({ command: 'wait_process', process_id: 'target', timeout_s: 0.005 });
    assert.equal((r.result as { timed_out: boolean }).timed_out, true);
  }
  for (let i = 0; i < 5; i++) {
    const raw = await RawConn.open(d.socket);
    for (let j = 0; j < 20; j++) raw.send(JSON.stringify({ command: 'wait_process', process_id: 'target', id: j }) + '\n');
    await raw.request({ command: 'ping' });
    raw.close();
  }
  // One connection with many concurrent waits on its signal must not trip the listener-leak warning.
  const many = await RawConn.open(d.socket);
  for (let j = 0; j < 50; j++) many.send(JSON.stringify({ command: 'wait_process', process_id: 'target', id: j, timeout_s: 0.05 }) + '\n');
  await many.waitReplies(50);
  many.close();
  await raw0.request({ command: 'kill_process', process_id: 'target' });
  raw0.close();
  assert.doesNotMatch(d.log(), /MaxListenersExceeded|memory leak/i);
});
