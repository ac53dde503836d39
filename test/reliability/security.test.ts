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
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import { test } from 'node:test';
import { listenPrivately } from '../../src/daemon/socket-file.js';
import { FIXTURES, pingOnce, runCli, startTestDaemon, tempDir } from '../helpers/daemon.js';
import { RawConn } from '../helpers/raw.js';
import { waitFor } from '../helpers/wait.js';

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;
const needsRoot = isRoot ? {} : { skip: 'needs root to chown files to another user' };

const mode = (p: string): number => fs.lstatSync(p).mode & 0o777;

/** A fresh directory with the paths a daemon would use in it. */
function layout(): { dir: string; socket: string; home: string; modules: string; args: string[] } {
  const dir = tempDir('cd-sec-');
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

test('the socket is owner-only from the instant it exists: bound under a 0177 umask, never chmod-ed after', async () => {
  // In-process, so the test sees the socket at its first moment ('listening' fires before
  // listenPrivately's own callback) and every chmod the code makes. A chmod after bind leaves a
  // window in which another user can connect; this test fails on any such code.
  const dir = tempDir('cd-sec-');
  const sock = path.join(dir, 'daemon.sock');
  const server = net.createServer();
  const chmods: string[] = [];
  const orig = { chmodSync: fs.chmodSync, chmod: fs.chmod, promisesChmod: fs.promises.chmod };
  fs.chmodSync = (p, m) => (chmods.push(String(p)), orig.chmodSync(p, m));
  fs.chmod = ((p: fs.PathLike, m: fs.Mode, cb: fs.NoParamCallback) => (chmods.push(String(p)), orig.chmod(p, m, cb))) as typeof fs.chmod;
  fs.promises.chmod = (p, m) => (chmods.push(String(p)), orig.promisesChmod(p, m));
  syncBuiltinESMExports();
  let atFirstSight = -1;
  server.once('listening', () => (atFirstSight = mode(sock)));
  const old = process.umask(0);
  let after: number | undefined;
  try {
    await listenPrivately(server, sock);
    after = process.umask(0);
  } finally {
    process.umask(old);
    Object.assign(fs, { chmodSync: orig.chmodSync, chmod: orig.chmod });
    fs.promises.chmod = orig.promisesChmod;
    syncBuiltinESMExports();
    await new Promise((r) => server.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(atFirstSight.toString(8), '600', 'mode when the socket first exists');
  assert.deepEqual(chmods, [], 'no chmod after bind');
  assert.equal(after, 0, 'the caller\'s umask is restored (children must not inherit 0177)');
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

/** Every file and directory under `dir`, relative, sorted (for "nothing appeared" checks). */
function tree(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).sort();
}

test('process ids cannot escape their directory, on every command that takes one', async () => {
  const d = await startTestDaemon();
  try {
    const outside = path.join(os.tmpdir(), `cd-escape-${process.pid}`);
    const hostile = [
      '../x', '../../x', '/etc', '/etc/passwd', outside, '.', '..', './x', 'a/b', 'a\\b', 'a\0b', '\0', 'x'.repeat(65), '', ' ', 'é', 'a b', '~', '$(id)',
      `../${path.basename(d.dir)}`,
    ];
    const before = { home: tree(d.home), dir: tree(d.dir), tmp: fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('cd-escape')) };
    const conn = await RawConn.open(d.socket);
    const fake = path.join(FIXTURES, 'fake-claude', 'claude');
    const commands: Array<[string, (id: string) => Record<string, unknown>]> = [
      ['spawn_process', (id) => ({ cmd: ['true'], process_id: id })],
      ['process_info', (id) => ({ process_id: id })],
      ['read_output', (id) => ({ process_id: id })],
      ['read_output', (id) => ({ process_id: id, stream: 'stderr', encoding: 'base64' })],
      ['kill_process', (id) => ({ process_id: id, signal: 'SIGKILL' })],
      ['wait_process', (id) => ({ process_id: id, timeout_s: 0 })],
      ['remove_process', (id) => ({ process_id: id })],
      ['spawn_claude', (id) => ({ prompt: 'hi', process_id: id, env: { CLAUDE_BIN: fake } })],
      ['claude_result', (id) => ({ process_id: id })],
    ];
    for (const [command, params] of commands) {
      for (const id of hostile) {
        const r = await conn.request({ command, ...params(id) });
        assert.equal(r.success, false, `${command} ${JSON.stringify(id)} was accepted: ${JSON.stringify(r)}`);
        // claude_result only looks the id up (no path is built from it): not found is the right answer.
        const ok = command === 'claude_result' ? ['INVALID_PARAMS', 'PROCESS_NOT_FOUND'] : ['INVALID_PARAMS'];
        assert.ok(ok.includes(r.code!), `${command} ${JSON.stringify(id)}: ${r.code} ${String(r.error)}`);
      }
    }
    conn.close();
    assert.ok(await pingOnce(d.socket));
    // Nothing was created, in the state directory or beside it.
    assert.deepEqual(tree(d.home).filter((p) => !p.startsWith('daemon.log')), before.home.filter((p) => !p.startsWith('daemon.log')));
    assert.deepEqual(tree(d.dir).filter((p) => !p.startsWith(`home${path.sep}daemon.log`)), before.dir.filter((p) => !p.startsWith(`home${path.sep}daemon.log`)));
    assert.deepEqual(fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('cd-escape')), before.tmp);
    assert.equal(fs.existsSync(path.join(d.home, 'record.json')), false);
  } finally {
    await d.stop();
  }
});

test('arguments and environment reach the child literally, never through a shell', async () => {
  const d = await startTestDaemon();
  try {
    const c = await d.client();
    const canary = path.join(d.dir, 'pwned');
    const nasty = [
      `$(touch ${canary})`, `\`touch ${canary}\``, `; touch ${canary}`, `| touch ${canary}`, `&& touch ${canary}`, `\ntouch ${canary}\n`,
      '*', '/*', '~', '$HOME', '${PATH}', "'single'", '"double"', '\\', '-n', '--', '', ' lead and trail ', 'tab\there', 'é€😀', '\r\n', '>out', '<in', '#', '!', '%s%n',
    ];
    const env: Record<string, string> = {};
    nasty.forEach((v, i) => (env[`NASTY_${i}`] = v));
    const names = Object.keys(env).join(' ');
    const r = await c.spawnProcess({ cmd: [path.join(FIXTURES, 'echo-argv.sh'), ...nasty], env: { ...env, ECHO_VARS: names }, cwd: d.dir });
    const w = await c.waitProcess({ process_id: r.process_id, timeout_s: 30 });
    assert.equal(w.exit_code, 0, (await c.readOutput({ process_id: r.process_id, stream: 'stderr' })).data);
    const out = Buffer.from((await c.readOutput({ process_id: r.process_id, encoding: 'base64', max_bytes: 1 << 20 })).data, 'base64');
    const expected = Buffer.from([...nasty, ...nasty].map((s) => `${s}\0`).join(''), 'utf8');
    assert.deepEqual(out, expected);
    assert.equal(fs.existsSync(canary), false, 'a shell ran one of the arguments');
    assert.deepEqual(fs.readdirSync(d.dir).sort(), ['daemon.sock', 'home', 'modules']);
    // The record keeps the argv as given.
    assert.deepEqual((await c.processInfo(r.process_id)).cmd.slice(1), nasty);
  } finally {
    await d.stop();
  }
});
