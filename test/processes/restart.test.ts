import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { DaemonClient } from '../../src/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { listProcs } from '../helpers/proc.js';
import { waitFor } from '../helpers/wait.js';
import { alive, fx, pidFrom, waitOutput } from './util.js';

let d: TestDaemon;
before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d.stop();
});

async function client(): Promise<DaemonClient> {
  return d.client();
}

function stored(id: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(d.home, 'processes', id, 'record.json'), 'utf8')) as Record<string, unknown>;
}

test('a child survives a SIGKILLed daemon, is re-adopted, and its exit code is waited for', async () => {
  let c = await client();
  const go = path.join(d.dir, 'survivor.go');
  const r = await c.spawnProcess({ cmd: [fx('wait-file.sh'), go, '7'], process_id: 'survivor' });
  await waitOutput(c, 'survivor');
  await d.kill('SIGKILL');
  assert.ok(alive(r.pid!), 'the child must outlive the daemon');
  await d.restart();
  c = await client();
  const info = await c.processInfo('survivor');
  assert.equal(info.status, 'running');
  assert.equal(info.pid, r.pid);
  const pending = c.waitProcess({ process_id: 'survivor', timeout_s: 20 });
  fs.writeFileSync(go, '');
  const w = await pending;
  assert.equal(w.status, 'exited');
  assert.equal(w.exit_code, 7);
  assert.equal((await c.readOutput({ process_id: 'survivor' })).data, 'ready\ndone\n');
});

test('a re-adopted child is killed through the new daemon, setsid grandchild included', async () => {
  let c = await client();
  const pidFile = path.join(d.dir, 'adopt-gc.pid');
  const r = await c.spawnProcess({ cmd: [fx('setsid-grandchild.sh'), pidFile], process_id: 'adopt-kill' });
  const gc = await pidFrom(pidFile);
  await waitOutput(c, 'adopt-kill');
  await d.kill('SIGKILL');
  await d.restart();
  c = await client();
  const k = await c.killProcess({ process_id: 'adopt-kill', grace_s: 1 });
  assert.equal(k.status, 'killed');
  assert.equal(k.signal, 'SIGTERM');
  await waitFor(() => !alive(r.pid!) && !alive(gc), { what: 'child and grandchild to die' });
});

test('a child that ends while the daemon is down has its exit code recovered', async () => {
  let c = await client();
  const r = await c.spawnProcess({ cmd: [fx('sleeper.sh'), '0.3', '5'], process_id: 'ended-while-down' });
  await waitOutput(c, 'ended-while-down');
  await d.kill('SIGKILL');
  await waitFor(() => !alive(r.pid!), { what: 'child to end while the daemon is down' });
  await waitFor(() => fs.existsSync(path.join(d.home, 'processes', 'ended-while-down', 'exit')), { what: 'exit file' });
  await d.restart();
  c = await client();
  const info = await c.processInfo('ended-while-down');
  assert.equal(info.status, 'exited');
  assert.equal(info.exit_code, 5);
  assert.equal(info.stdout_bytes, 'ready\nslept\n'.length);
});

test('timeout_s keeps counting from started_at across a restart', async () => {
  let c = await client();
  await c.spawnProcess({ cmd: [fx('sleeper.sh')], process_id: 'timeout-restart', timeout_s: 1.5 });
  await d.kill('SIGKILL');
  await d.restart();
  c = await client();
  const w = await c.waitProcess({ process_id: 'timeout-restart', timeout_s: 20 });
  assert.equal(w.status, 'killed');
  assert.match(w.reason ?? '', /timeout_s/);
  assert.ok(w.duration_ms! >= 1400 && w.duration_ms! < 10_000, `ran ${w.duration_ms} ms`);
});

test('a pid reused by a stranger is not adopted; with nothing recorded the process is lost', async () => {
  let c = await client();
  const r = await c.spawnProcess({ cmd: [fx('sleeper.sh')], process_id: 'reused' });
  await waitOutput(c, 'reused');
  await d.stop();
  // Kill the wrapper and the command behind the daemon's back: no exit file gets written.
  const s = stored('reused');
  process.kill(s['wrapper_pid'] as number, 'SIGKILL');
  process.kill(-r.pid!, 'SIGKILL'); // its whole group: sleeper.sh and its own `sleep 1000`
  await waitFor(() => !alive(r.pid!) && !alive(s['wrapper_pid'] as number), { what: 'wrapper and command to die' });
  // A stranger now holds "our" pids (as far as the record knows); only its start time differs.
  const stranger = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    const file = path.join(d.home, 'processes', 'reused', 'record.json');
    const rec = stored('reused') as { record: { pid: number }; wrapper_pid: number };
    rec.record.pid = stranger.pid!;
    rec.wrapper_pid = stranger.pid!;
    fs.writeFileSync(file, JSON.stringify(rec));
    await d.restart();
    c = await client();
    const info = await c.processInfo('reused');
    assert.equal(info.status, 'lost');
    assert.match(info.reason ?? '', /no outcome/);
    assert.equal(alive(stranger.pid!), true, 'the stranger must not be touched');
    const k = await c.killProcess({ process_id: 'reused' });
    assert.equal(k.status, 'lost');
    assert.equal(alive(stranger.pid!), true);
  } finally {
    stranger.kill('SIGKILL');
  }
  // Nothing of the test left behind: sleeper.sh's own `sleep 1000` is gone with its shell.
  await waitFor(() => !listProcs().some((p) => p.pgrp === r.pid && p.state !== 'Z'), { what: `the command's process group ${r.pid} to be empty` });
});

test('shutdown leaves children running (re-adopted later); shutdown kill_processes kills them', async () => {
  let c = await client();
  const r = await c.spawnProcess({ cmd: [fx('sleeper.sh')], process_id: 'keep' });
  await waitOutput(c, 'keep');
  await d.stop();
  assert.ok(alive(r.pid!));
  await d.restart();
  c = await client();
  assert.equal((await c.processInfo('keep')).status, 'running');
  const r2 = await c.spawnProcess({ cmd: [fx('ignore-term.sh')], process_id: 'keep2' });
  await waitOutput(c, 'keep2');
  const res = await c.shutdown({ kill_processes: true });
  assert.equal(res.kill_processes, true);
  await waitFor(() => d.proc.exitCode !== null, { what: 'daemon to exit', timeoutMs: 20_000 });
  assert.equal(alive(r.pid!), false);
  assert.equal(alive(r2.pid!), false);
  await d.restart();
  c = await client();
  const keep = await c.processInfo('keep');
  assert.equal(keep.status, 'killed');
  assert.match(keep.reason ?? '', /kill_processes/);
  assert.equal((await c.processInfo('keep2')).signal, 'SIGKILL');
});

test('a corrupt or half-created record does not stop the daemon', async () => {
  const c0 = await client();
  await c0.spawnProcess({ cmd: ['true'], process_id: 'sound' });
  await c0.waitProcess({ process_id: 'sound', timeout_s: 10 });
  await d.stop();
  const bad = path.join(d.home, 'processes', 'corrupt');
  fs.mkdirSync(bad, { recursive: true });
  fs.writeFileSync(path.join(bad, 'record.json'), '{"version":1,"rec');
  fs.mkdirSync(path.join(d.home, 'processes', 'half'), { recursive: true });
  await d.restart();
  const c = await client();
  const all = await c.listProcesses();
  assert.ok(all.processes.some((p) => p.process_id === 'sound'), 'the sound record is still served');
  assert.ok(!all.processes.some((p) => p.process_id === 'corrupt' || p.process_id === 'half'));
  assert.match(d.log(), /ignoring .*corrupt/);
});
