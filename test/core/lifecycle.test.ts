/**
 * The daemon's life: claiming its socket (stale replaced, live refused, non-socket untouched), the
 * permissions of what it creates, and the ways it stops (`shutdown`, SIGTERM, SIGINT).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { pingOnce, runCli, startTestDaemon, tempDir, type TestDaemon } from '../helpers/daemon.js';
import { RawConn } from '../helpers/raw.js';
import { waitFor } from '../helpers/wait.js';
import { connect } from '../../src/index.js';

function exitOf(d: TestDaemon): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const p = d.proc;
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve({ code: p.exitCode, signal: p.signalCode });
  return new Promise((r) => p.once('exit', (code, signal) => r({ code, signal })));
}

function tmpDir(): string {
  return tempDir('cd-life-');
}

test('the socket is 0600, the state directory 0700, and the log goes to a file there', async () => {
  const d = await startTestDaemon();
  try {
    const sock = fs.lstatSync(d.socket);
    assert.ok(sock.isSocket());
    assert.equal(sock.mode & 0o777, 0o600);
    assert.equal(fs.statSync(d.home).mode & 0o777, 0o700);
    const log = await waitFor(() => {
      const text = fs.readFileSync(path.join(d.home, 'daemon.log'), 'utf8');
      return text.includes('listening on') ? text : undefined;
    });
    assert.match(log, new RegExp(`pid ${d.proc.pid}`));
    assert.equal(fs.statSync(path.join(d.home, 'daemon.log')).mode & 0o077, 0);
  } finally {
    await d.stop();
  }
});

test('an existing state directory that is too open is tightened to 0700', async () => {
  const dir = tmpDir();
  fs.mkdirSync(path.join(dir, 'home'), { mode: 0o755 });
  fs.chmodSync(path.join(dir, 'home'), 0o755);
  const d = await startTestDaemon({ dir });
  try {
    assert.equal(fs.statSync(d.home).mode & 0o777, 0o700);
  } finally {
    await d.stop();
  }
});

test('a stale socket (nobody behind it) is removed and replaced', async () => {
  const d = await startTestDaemon();
  const firstPid = d.proc.pid;
  await d.kill('SIGKILL');
  assert.ok(fs.lstatSync(d.socket).isSocket(), 'SIGKILL leaves the socket file behind');
  assert.equal(await pingOnce(d.socket), false);
  await d.restart();
  try {
    const c = await d.client();
    const r = await c.ping();
    assert.equal(r.pid, d.proc.pid);
    assert.notEqual(r.pid, firstPid);
  } finally {
    await d.stop();
  }
});

test('starting while a live daemon answers exits non-zero naming its pid, and the live one is untouched', async () => {
  const d = await startTestDaemon();
  try {
    const r = await runCli(['start', '--socket', d.socket, '--home', path.join(d.dir, 'home2')]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /already running/);
    assert.match(r.stderr, new RegExp(`pid ${d.proc.pid}\\b`));
    const c = await d.client();
    assert.equal((await c.ping()).pid, d.proc.pid);
  } finally {
    await d.stop();
  }
});

test('a path that exists and is not a socket is never deleted: start refuses with a clear message', async () => {
  const dir = tmpDir();
  const file = path.join(dir, 'not-a-socket');
  fs.writeFileSync(file, 'precious data\n');
  const r = await runCli(['start', '--socket', file, '--home', path.join(dir, 'home')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not a socket/);
  assert.match(r.stderr, /refusing/);
  assert.equal(fs.readFileSync(file, 'utf8'), 'precious data\n');

  const sub = path.join(dir, 'a-directory');
  fs.mkdirSync(sub);
  const r2 = await runCli(['start', '--socket', sub, '--home', path.join(dir, 'home')]);
  assert.equal(r2.code, 1);
  assert.ok(fs.statSync(sub).isDirectory());
});

test('`shutdown` replies first, then the daemon removes its socket and exits 0', async () => {
  const d = await startTestDaemon();
  const exited = exitOf(d);
  const bystander = await connect({ socketPath: d.socket });
  const c = await connect({ socketPath: d.socket });
  const r = await c.shutdown();
  assert.deepEqual(r, { shutting_down: true, kill_processes: false });
  const { code } = await exited;
  assert.equal(code, 0, d.log());
  assert.equal(fs.existsSync(d.socket), false, 'socket file removed');
  assert.match(d.log(), /stopped/);
  // Connections still open at shutdown are closed, so their owners notice.
  await assert.rejects(bystander.ping(), { name: 'ClientError' });
  c.close();
  bystander.close();
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal} does what shutdown does: socket removed, exit 0`, async () => {
    const d = await startTestDaemon();
    const exited = exitOf(d);
    d.proc.kill(signal);
    const { code, signal: sig } = await exited;
    assert.deepEqual([code, sig], [0, null], d.log());
    assert.equal(fs.existsSync(d.socket), false);
    assert.match(d.log(), new RegExp(`received ${signal}`));
    // The same socket can be used again at once.
    await d.restart();
    await d.stop();
  });
}

test('a socket directory that does not exist, or a --home that is a file, is refused with a message (exit 1)', async () => {
  const dir = tmpDir();
  const r = await runCli(['start', '--socket', path.join(dir, 'missing', 'd.sock'), '--home', path.join(dir, 'home')]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^claude-daemon start: cannot listen on .*missing\/d\.sock/m);
  assert.doesNotMatch(r.stderr, /unexpected failure|at .*\.js:\d+/);

  const file = path.join(dir, 'home-file');
  fs.writeFileSync(file, '');
  const r2 = await runCli(['start', '--socket', path.join(dir, 'd.sock'), '--home', file]);
  assert.equal(r2.code, 1, r2.stderr);
  assert.match(r2.stderr, /cannot create the state directory/);
  assert.equal(fs.existsSync(path.join(dir, 'd.sock')), false);
});

test('a "__proto__" key cannot smuggle parameters in through the prototype', async () => {
  const d = await startTestDaemon();
  const exited = exitOf(d);
  const raw = await RawConn.open(d.socket);
  raw.send('{"command":"shutdown","id":"p","__proto__":{"kill_processes":"yes"}}\n');
  const [r] = await raw.waitReplies(1);
  // Had the nested object become the prototype, kill_processes would have been seen (and rejected).
  assert.equal(r!.success, true, JSON.stringify(r));
  assert.deepEqual(r!.result, { shutting_down: true, kill_processes: false });
  assert.equal((await exited).code, 0);
  raw.close();
});
