import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { RawConn } from '../helpers/raw.js';

let d: TestDaemon;
before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d.stop();
});

test('ping answers with pong, version and pid', async () => {
  const c = await d.client();
  const r = await c.ping();
  assert.equal(r.pong, true);
  assert.equal(r.pid, d.proc.pid);
});

test('an unknown command gets UNKNOWN_COMMAND and the connection stays usable', async () => {
  const raw = await RawConn.open(d.socket);
  const bad = await raw.request({ command: 'nope' });
  assert.equal(bad.code, 'UNKNOWN_COMMAND');
  const ok = await raw.request({ command: 'ping' });
  assert.equal(ok.success, true);
  raw.close();
});
