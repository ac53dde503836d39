import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { DaemonClient } from '../../src/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';
import { alive, fx, pidFrom, waitOutput } from './util.js';

let d: TestDaemon;
let c: DaemonClient;
before(async () => {
  d = await startTestDaemon();
  c = await d.client();
});
after(async () => {
  await d.stop();
});

test('kill_process: SIGTERM ends a process that honours it, well before the grace', async () => {
  await c.spawnProcess({ cmd: [fx('sleeper.sh')], process_id: 'term' });
  await waitOutput(c, 'term');
  const t0 = Date.now();
  const r = await c.killProcess({ process_id: 'term' });
  assert.equal(r.status, 'killed');
  assert.equal(r.signal, 'SIGTERM');
  assert.equal(r.reason, 'kill_process (SIGTERM)');
  assert.ok(Date.now() - t0 < 2000, 'should not wait for the 5 s grace');
  assert.equal(alive(r.pid!), false);
});

test('a process ignoring SIGTERM gets SIGKILL after the grace', async () => {
  await c.spawnProcess({ cmd: [fx('ignore-term.sh')], process_id: 'stubborn' });
  await waitOutput(c, 'stubborn');
  const t0 = Date.now();
  const r = await c.killProcess({ process_id: 'stubborn', grace_s: 0.4 });
  const took = Date.now() - t0;
  assert.equal(r.status, 'killed');
  assert.equal(r.signal, 'SIGKILL');
  assert.ok(took >= 380, `SIGKILL came after ${took} ms, before the grace`);
  assert.equal(alive(r.pid!), false);
});

test('an explicit signal is sent as asked', async () => {
  await c.spawnProcess({ cmd: [fx('sleeper.sh')], process_id: 'int' });
  await waitOutput(c, 'int');
  const r = await c.killProcess({ process_id: 'int', signal: 'SIGINT' });
  assert.equal(r.signal, 'SIGINT');
});

test('the kill reaches a grandchild started under setsid', async () => {
  const pidFile = path.join(d.dir, 'gc1.pid');
  await c.spawnProcess({ cmd: [fx('setsid-grandchild.sh'), pidFile], process_id: 'gc1' });
  const gc = await pidFrom(pidFile);
  await waitOutput(c, 'gc1');
  assert.ok(alive(gc));
  await c.killProcess({ process_id: 'gc1', grace_s: 1 });
  await waitFor(() => !alive(gc), { what: 'grandchild to die' });
});

test('a setsid grandchild that ignores SIGTERM and outlives its parent still gets SIGKILL', async () => {
  const pidFile = path.join(d.dir, 'gc2.pid');
  await c.spawnProcess({ cmd: [fx('setsid-grandchild.sh'), pidFile, 'ignore-term'], process_id: 'gc2' });
  const gc = await pidFrom(pidFile);
  await waitOutput(c, 'gc2');
  const r = await c.killProcess({ process_id: 'gc2', grace_s: 0.3 });
  assert.equal(r.status, 'killed');
  assert.equal(r.signal, 'SIGTERM');
  await waitFor(() => !alive(gc), { what: 'TERM-ignoring grandchild to get SIGKILL', timeoutMs: 5000 });
});

test('killing an ended process is not an error: it returns the record', async () => {
  await c.spawnProcess({ cmd: ['true'], process_id: 'done' });
  await c.waitProcess({ process_id: 'done', timeout_s: 10 });
  const r = await c.killProcess({ process_id: 'done' });
  assert.equal(r.status, 'exited');
  assert.equal(r.exit_code, 0);
  assert.equal(r.reason, null);
});

test('`exit 143` and death by SIGTERM are recorded differently', async () => {
  await c.spawnProcess({ cmd: [fx('exit-143.sh')], process_id: 'e143' });
  const a = await c.waitProcess({ process_id: 'e143', timeout_s: 10 });
  assert.equal(a.status, 'exited');
  assert.equal(a.exit_code, 143);
  assert.equal(a.signal, null);
  await c.spawnProcess({ cmd: ['sh', '-c', 'kill -TERM $$'], process_id: 'sigterm' });
  const b = await c.waitProcess({ process_id: 'sigterm', timeout_s: 10 });
  assert.equal(b.status, 'killed');
  assert.equal(b.exit_code, null);
  assert.equal(b.signal, 'SIGTERM');
});

test('100 MB of stdout lands byte-exact in the log', async () => {
  const mb = 100;
  await c.spawnProcess({ cmd: [process.execPath, fx('flood.cjs'), String(mb)], process_id: 'flood' });
  const w = await c.waitProcess({ process_id: 'flood', timeout_s: 120 });
  assert.equal(w.exit_code, 0);
  assert.equal(w.stdout_bytes, mb * 1024 * 1024);
  const chunk = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 7 + (i >> 10)) % 251;
  const expected = crypto.createHash('sha256');
  for (let i = 0; i < mb; i++) expected.update(chunk);
  const actual = crypto.createHash('sha256').update(fs.readFileSync(path.join(d.home, 'processes', 'flood', 'stdout'))).digest('hex');
  assert.equal(actual, expected.digest('hex'));
  // And through the protocol: a base64 slice in the middle is exact.
  const r = await c.readOutput({ process_id: 'flood', offset: 50 * 1024 * 1024 + 3, max_bytes: 1000, encoding: 'base64' });
  assert.deepEqual(Buffer.from(r.data, 'base64'), chunk.subarray(3, 1003));
  await c.removeProcess('flood');
});
