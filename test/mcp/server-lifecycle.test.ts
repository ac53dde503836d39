/**
 * `claude-daemon mcp` and the daemon's life: a daemon restarted under the server (the next call
 * reconnects), no daemon with --no-start (every call says how to start one), a daemon that is not
 * running (started in the background, kept, and stopped again here), and a start that fails.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { connect } from '../../src/index.js';
import { pingOnce, startTestDaemon, tempDir } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';
import { startMcp } from './server-harness.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('the server survives the daemon being killed and restarted under it: the next call reconnects', async () => {
  const d = await startTestDaemon();
  const m = await startMcp(['--socket', d.socket, '--no-start']);
  try {
    const first = await m.ok<{ pid: number }>('ping');
    await m.ok('spawn_process', { cmd: ['sleep', '30'], process_id: 'survivor' });
    await d.kill('SIGKILL');
    // Down, and this server may not start one: an isError result saying how, not a crash.
    assert.match(await m.fails('ping'), /^NO_DAEMON: .*claude-daemon start --detach --socket /);
    assert.match(await m.fails('spawn_process', { cmd: ['true'] }), /^NO_DAEMON: /);
    await d.restart();
    const second = await m.ok<{ pid: number }>('ping');
    assert.notEqual(second.pid, first.pid);
    assert.equal((await m.ok<{ status: string }>('process_info', { process_id: 'survivor' })).status, 'running', 're-adopted');
    // A restart between two calls, the connection not yet known to be broken: the read is retried.
    await d.kill('SIGKILL');
    await d.restart();
    assert.equal((await m.ok<{ processes: unknown[] }>('list_processes')).processes.length, 1);
    await m.ok('kill_process', { process_id: 'survivor', grace_s: 1 });
  } finally {
    await m.close();
    await d.stop({ killProcesses: true });
  }
});

test('no daemon running: the server starts one in the background (as start --detach), says so on stderr, and it is kept', async () => {
  const dir = tempDir('cd-mcp-auto-');
  const socket = path.join(dir, 'd.sock');
  const home = path.join(dir, 'home');
  assert.equal(await pingOnce(socket), false);
  const started = Date.now();
  const m = await startMcp(['--socket', socket, '--home', home]);
  let daemonPid: number | undefined;
  let keeperPid: number | undefined;
  try {
    const listedMs = Date.now() - started;
    // Informational only (the bench measures cold start); generous bound for a loaded machine.
    assert.ok(listedMs < 20_000, `tools listed in ${listedMs} ms`);
    const pong = await m.ok<{ pid: number; home: string; socket: string; keeper: { pid: number } | null }>('ping');
    daemonPid = pong.pid;
    keeperPid = pong.keeper?.pid;
    assert.equal(pong.socket, socket);
    assert.equal(pong.home, home);
    assert.ok(keeperPid !== undefined, 'kept, as start --detach does');
    assert.match(m.log(), /no daemon answers on .*; starting one in the background/);
    assert.match(m.log(), new RegExp(`started the daemon: pid ${pong.pid}`));
    // The daemon outlives the server that started it.
    await m.close();
    assert.equal(await pingOnce(socket), true);
  } finally {
    await m.close();
    if (await pingOnce(socket)) {
      const c = await connect({ socketPath: socket });
      await c.shutdown({ kill_processes: true }).catch(() => undefined);
      c.close();
    }
    await waitFor(() => [daemonPid, keeperPid].every((p) => p === undefined || !alive(p)), { what: 'the started daemon and its keeper to stop', timeoutMs: 20_000 });
  }
});

test('a daemon that cannot be started: every call is an isError result saying how to start one', async () => {
  const dir = tempDir('cd-mcp-nostart-');
  const socket = path.join(dir, 'd.sock');
  // A state directory that cannot be made (under a regular file).
  const m = await startMcp(['--socket', socket, '--home', '/dev/null/home']);
  try {
    const text = await m.fails('spawn_claude', { prompt: 'hi' });
    assert.match(text, /^NO_DAEMON: no daemon answers on .* and starting one failed: .*To fix it, start one with `claude-daemon start --detach --socket /s);
    assert.match(await m.fails('list_processes'), /^NO_DAEMON: /);
    assert.match(m.log(), /starting one failed/);
    assert.equal(await pingOnce(socket), false);
  } finally {
    await m.close();
  }
});
