/**
 * Security checks at start: the socket and everything in the state directory are the owner's only,
 * whatever the umask; a state directory that is too open is repaired; a state directory or socket
 * owned by someone else, or a socket path that is not a socket, is refused and left untouched.
 * Tests that need another user's files chown to uid 65534 (nobody), which needs root: they are
 * reported as skipped (never silently passed) when not run as root.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { pingOnce, runCli, startTestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;
const needsRoot = isRoot ? {} : { skip: 'needs root to chown files to another user' };

const mode = (p: string): number => fs.lstatSync(p).mode & 0o777;

/** A fresh directory with the paths a daemon would use in it. */
function layout(): { dir: string; socket: string; home: string; modules: string; args: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cd-sec-'));
  const socket = path.join(dir, 'daemon.sock');
  const home = path.join(dir, 'home');
  const modules = path.join(dir, 'modules');
  fs.mkdirSync(modules);
  return { dir, socket, home, modules, args: ['start', '--socket', socket, '--home', home, '--modules-dir', modules] };
}

/** Leaves a socket file with nobody listening, as a daemon killed by SIGKILL would. */
async function staleSocket(p: string): Promise<void> {
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(p)}, () => process.kill(process.pid, 'SIGKILL'))`]);
  await new Promise((r) => child.once('exit', r));
  assert.ok(fs.lstatSync(p).isSocket(), 'a stale socket was left behind');
}

test('with umask 000, the socket is 0600 and the state directory 0700 with a 0600 log', async () => {
  const old = process.umask(0); // Inherited by the daemon we spawn.
  let d;
  try {
    d = await startTestDaemon();
  } finally {
    process.umask(old);
  }
  try {
    assert.equal(mode(d.socket).toString(8), '600');
    assert.equal(mode(d.home).toString(8), '700');
    assert.equal(mode(path.join(d.home, 'daemon.log')).toString(8), '600');
    assert.equal(fs.statSync(d.socket).uid, process.getuid!());
  } finally {
    await d.stop();
  }
});

test('a state directory that is too open is repaired to 0700 at start', async () => {
  const l = layout();
  fs.mkdirSync(l.home, { mode: 0o777 });
  fs.chmodSync(l.home, 0o777);
  const d = await startTestDaemon({ dir: l.dir });
  try {
    assert.equal(mode(d.home).toString(8), '700');
  } finally {
    await d.stop();
  }
});

test('a state directory owned by another user is refused and left as it was', needsRoot, async () => {
  const l = layout();
  fs.mkdirSync(l.home, { mode: 0o755 });
  fs.chmodSync(l.home, 0o755);
  fs.chownSync(l.home, NOBODY, NOBODY);
  const r = await runCli(l.args);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /belongs to uid 65534/);
  assert.equal(fs.statSync(l.home).uid, NOBODY);
  assert.equal(mode(l.home).toString(8), '755');
  assert.equal(fs.existsSync(l.socket), false, 'no socket was created');
});

test('a stale socket owned by another user is refused and not removed', needsRoot, async () => {
  const l = layout();
  await staleSocket(l.socket);
  fs.lchownSync(l.socket, NOBODY, NOBODY);
  const r = await runCli(l.args);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /belongs to uid 65534/);
  assert.ok(fs.lstatSync(l.socket).isSocket());
  assert.equal(fs.lstatSync(l.socket).uid, NOBODY);
});

test('a stale socket of our own is replaced', async () => {
  const l = layout();
  await staleSocket(l.socket);
  const d = await startTestDaemon({ dir: l.dir });
  try {
    assert.equal(mode(d.socket).toString(8), '600');
    assert.ok(await pingOnce(d.socket));
  } finally {
    await d.stop();
  }
});

test('a socket path that is a file or a symlink is refused and left untouched', async () => {
  for (const kind of ['file', 'symlink'] as const) {
    const l = layout();
    const target = path.join(l.dir, 'precious.txt');
    fs.writeFileSync(target, 'keep me');
    if (kind === 'file') fs.copyFileSync(target, l.socket);
    else fs.symlinkSync(target, l.socket);
    const r = await runCli(l.args);
    assert.equal(r.code, 1, `${kind}: ${r.stderr}`);
    assert.match(r.stderr, /is not a socket/);
    assert.equal(fs.readFileSync(l.socket, 'utf8'), 'keep me');
    assert.equal(fs.lstatSync(l.socket).isSymbolicLink(), kind === 'symlink');
    assert.equal(fs.readFileSync(target, 'utf8'), 'keep me');
  }
});

test('a second daemon on a live socket is refused and the first keeps serving', async () => {
  const d = await startTestDaemon();
  try {
    const r = await runCli(['start', '--socket', d.socket, '--home', path.join(d.dir, 'home2'), '--modules-dir', d.modulesDir]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /already running/);
    await waitFor(() => pingOnce(d.socket), { what: 'the first daemon to still answer' });
    assert.equal(d.proc.exitCode, null);
  } finally {
    await d.stop();
  }
});
