import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { DaemonClient } from '../../src/index.js';
import { DaemonError } from '../../src/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { RawConn } from '../helpers/raw.js';
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

test('kill_process with process_ids ends every tree (setsid grandchildren too) and lists the records in the order given, each once', async () => {
  const pidFile = path.join(d.dir, 'many-gc.pid');
  await c.spawnProcess({ cmd: [fx('sleeper.sh')], process_id: 'many-a' });
  await c.spawnProcess({ cmd: [fx('setsid-grandchild.sh'), pidFile, 'ignore-term'], process_id: 'many-b' });
  await c.spawnProcess({ cmd: [fx('sleeper.sh')], process_id: 'many-c' });
  await c.spawnProcess({ cmd: ['true'], process_id: 'many-done' });
  await c.waitProcess({ process_id: 'many-done', timeout_s: 10 });
  const gc = await pidFrom(pidFile);
  for (const id of ['many-a', 'many-b', 'many-c']) await waitOutput(c, id);
  const r = await c.killProcess({ process_ids: ['many-c', 'many-a', 'many-b', 'many-done', 'many-a'], grace_s: 0.3 });
  assert.deepEqual(r.processes.map((p) => p.process_id), ['many-c', 'many-a', 'many-b', 'many-done']);
  for (const p of r.processes.slice(0, 3)) {
    assert.equal(p.status, 'killed', JSON.stringify(p));
    assert.equal(p.signal, 'SIGTERM');
    assert.equal(p.reason, 'kill_process (SIGTERM)');
    assert.equal(alive(p.pid!), false);
  }
  assert.equal(r.processes[3]!.status, 'exited');
  assert.equal(r.processes[3]!.reason, null);
  // The grandchild ignores SIGTERM in a session of its own: the walk found it, SIGKILL follows.
  await waitFor(() => !alive(gc), { what: 'TERM-ignoring grandchild to get SIGKILL', timeoutMs: 5000 });
});

test('kill_process with process_ids naming an unknown process refuses the whole request and signals nothing', async () => {
  await c.spawnProcess({ cmd: [fx('sleeper.sh')], process_id: 'many-keep' });
  await waitOutput(c, 'many-keep');
  await assert.rejects(c.killProcess({ process_ids: ['many-keep', 'many-nope'] }), (e: unknown) => e instanceof DaemonError && e.code === 'PROCESS_NOT_FOUND' && e.message.includes('many-nope'));
  const rec = await c.processInfo('many-keep');
  assert.equal(rec.status, 'running');
  assert.equal(rec.reason, null);
  assert.ok(alive(rec.pid!));
  await c.killProcess({ process_id: 'many-keep' });
});

test('kill_process takes process_id or process_ids, exactly one; bad lists give INVALID_PARAMS naming the field', async () => {
  const raw = await RawConn.open(d.socket);
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ command: 'kill_process' }, 'process_id'],
    [{ command: 'kill_process', process_id: 'x', process_ids: ['y'] }, 'process_id'],
    [{ command: 'kill_process', process_ids: [] }, 'process_ids'],
    [{ command: 'kill_process', process_ids: 'x' }, 'process_ids'],
    [{ command: 'kill_process', process_ids: ['ok', '..'] }, 'process_ids.1'],
    [{ command: 'kill_process', process_ids: Array.from({ length: 10_001 }, (_, i) => `p${i}`) }, 'process_ids'],
    [{ command: 'kill_process', process_ids: ['x'], signal: 'SIGNOPE' }, 'signal'],
  ];
  try {
    for (const [req, field] of cases) {
      const r = await raw.request(req);
      assert.equal(r.code, 'INVALID_PARAMS', `${JSON.stringify(req).slice(0, 200)} -> ${JSON.stringify(r)}`);
      assert.ok(r.error?.includes(`\`${field}\``), `message should name ${field}: ${r.error}`);
    }
  } finally {
    raw.close();
  }
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
