/**
 * The client library's contract: typed results, DaemonError carrying the wire code, ClientError for
 * local failures (no daemon, lost connection, per-request timeout, closed) with messages that say
 * what to do. Timeouts and lost connections are provoked with a scripted fake server.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ClientError, DaemonError, connect, ERROR_CODES } from '../../src/index.js';
import { startTestDaemon, tempDir, type TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

let d: TestDaemon;
before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d.stop();
});

const tmpSock = (): string => path.join(tempDir('cd-client-'), 's.sock');

/** A fake daemon that answers `ping`, never answers `hang`, and drops the connection on `drop`. */
async function fakeServer(socket: string): Promise<net.Server> {
  const server = net.createServer((sock) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('error', () => undefined);
    sock.on('data', (chunk: string) => {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const req = JSON.parse(buf.slice(0, nl)) as { command: string; id: number };
        buf = buf.slice(nl + 1);
        if (req.command === 'ping') sock.write(JSON.stringify({ success: true, result: { pong: true }, id: req.id }) + '\n');
        if (req.command === 'drop') sock.destroy();
      }
    });
  });
  await new Promise<void>((r) => server.listen(socket, r));
  return server;
}

test('typed methods resolve with the result; request() reaches any command by name', async () => {
  const c = await connect({ socketPath: d.socket });
  const r = await c.ping();
  assert.equal(r.pong, true);
  assert.equal(r.socket, d.socket);
  assert.equal(typeof r.uptime_s, 'number');
  const g = (await c.request('ping', {})) as { pid: number };
  assert.equal(g.pid, d.proc.pid);
  c.close();
});

test('a daemon error rejects with DaemonError carrying the wire code, message and command', async () => {
  const c = await connect({ socketPath: d.socket });
  const err = await c.request('no_such_thing', {}).catch((e: unknown) => e);
  assert.ok(err instanceof DaemonError);
  assert.equal(err.code, 'UNKNOWN_COMMAND');
  assert.equal(err.command, 'no_such_thing');
  assert.match(err.message, /known commands/);
  assert.ok(Object.hasOwn(ERROR_CODES, err.code));
  await assert.rejects(c.shutdown({ kill_processes: 'x' as unknown as boolean }), (e: unknown) => e instanceof DaemonError && e.code === 'INVALID_PARAMS');
  assert.equal((await c.ping()).pong, true, 'the connection is still usable');
  c.close();
});

test('no daemon: ClientError NO_DAEMON says no daemon runs on that path and how to start one', async () => {
  const socket = tmpSock();
  const err = await connect({ socketPath: socket }).catch((e: unknown) => e);
  assert.ok(err instanceof ClientError);
  assert.equal(err.kind, 'NO_DAEMON');
  assert.ok(err.message.includes(`no daemon is running on ${socket}`), err.message);
  assert.match(err.message, /claude-daemon start/);

  // A stale socket file (its listener was SIGKILLed) is the same situation: ECONNREFUSED.
  const listener = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socket)})`], { stdio: 'ignore' });
  await waitFor(() => fs.existsSync(socket), { what: 'listener socket' });
  listener.kill('SIGKILL');
  await new Promise((r) => listener.once('exit', r));
  assert.ok(fs.lstatSync(socket).isSocket());
  const stale = await connect({ socketPath: socket }).catch((e: unknown) => e);
  assert.ok(stale instanceof ClientError && stale.kind === 'NO_DAEMON', String(stale));
  assert.match((stale as Error).message, /ECONNREFUSED/);
});

test('connect() finds the socket through CLAUDE_DAEMON_SOCKET', async () => {
  const before = process.env['CLAUDE_DAEMON_SOCKET'];
  process.env['CLAUDE_DAEMON_SOCKET'] = d.socket;
  try {
    const c = await connect();
    assert.equal(c.socketPath, d.socket);
    assert.equal((await c.ping()).pid, d.proc.pid);
    c.close();
  } finally {
    if (before === undefined) delete process.env['CLAUDE_DAEMON_SOCKET'];
    else process.env['CLAUDE_DAEMON_SOCKET'] = before;
  }
});

test('a per-request timeout fails only that request; others on the connection carry on', async () => {
  const socket = tmpSock();
  const server = await fakeServer(socket);
  const c = await connect({ socketPath: socket });
  try {
    const t0 = Date.now();
    const err = await c.request('hang', {}, { timeoutMs: 150 }).catch((e: unknown) => e);
    assert.ok(err instanceof ClientError);
    assert.equal(err.kind, 'TIMEOUT');
    assert.match(err.message, /hang got no reply within 150 ms/);
    assert.ok(Date.now() - t0 >= 140);
    assert.deepEqual(await c.request('ping', {}), { pong: true });
  } finally {
    c.close();
    server.close();
  }
  // The connection-wide default applies when a request sets none.
  const server2 = await fakeServer(socket);
  const c2 = await connect({ socketPath: socket, timeoutMs: 100 });
  try {
    await assert.rejects(c2.request('hang', {}), (e: unknown) => e instanceof ClientError && e.kind === 'TIMEOUT');
  } finally {
    c2.close();
    server2.close();
  }
});

test('a lost connection rejects everything pending with CONNECTION_LOST, and later requests too', async () => {
  const socket = tmpSock();
  const server = await fakeServer(socket);
  const c = await connect({ socketPath: socket });
  try {
    const pending = c.request('hang', {});
    const dropped = c.request('drop', {});
    for (const p of [pending, dropped]) await assert.rejects(p, (e: unknown) => e instanceof ClientError && e.kind === 'CONNECTION_LOST');
    await assert.rejects(c.request('ping', {}), (e: unknown) => e instanceof ClientError && e.kind === 'CONNECTION_LOST');
  } finally {
    c.close();
    server.close();
  }
});

test('close() rejects pending requests with CLOSED and lets the process exit', async () => {
  const socket = tmpSock();
  const server = await fakeServer(socket);
  const c = await connect({ socketPath: socket });
  const pending = c.request('hang', {});
  c.close();
  await assert.rejects(pending, (e: unknown) => e instanceof ClientError && e.kind === 'CLOSED');
  await assert.rejects(c.ping(), (e: unknown) => e instanceof ClientError && e.kind === 'CLOSED');
  server.close();
});

test('many requests in flight on one client each settle on their own reply', async () => {
  const c = await connect({ socketPath: d.socket });
  const mixed = await Promise.allSettled(Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? c.request(`bad_${i}`, {}) : c.ping())));
  mixed.forEach((r, i) => {
    if (i % 3 === 0) assert.ok(r.status === 'rejected' && r.reason instanceof DaemonError && (r.reason as DaemonError).command === `bad_${i}`);
    else assert.ok(r.status === 'fulfilled' && (r.value as { pong: boolean }).pong === true);
  });
  c.close();
});
