/**
 * The keeper (`start --detach`, native/keep.c): a daemon that dies unexpectedly (SIGKILL, a crash,
 * SIGTERM from a stray `pkill node`) is started again at once and re-adopts everything; `shutdown`
 * stops daemon and keeper for good; a killed keeper leaves the daemon running, unkept; a daemon
 * that cannot start is not restarted forever; crash loops back off. The long version (10 kills in a
 * row under load) is test/stress/keeper.test.ts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers/daemon.js';
import { alive, runEntry, startedAt, startKept, uptimeNow } from '../helpers/kept.js';
import { BIN } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

const WRAP = path.join(ROOT, 'dist', 'claude-daemon-wrap');
const SLEEPER = path.join(ROOT, 'test', 'fixtures', 'sleeper.sh');

test('a SIGKILLed kept daemon is started again within 1 s and re-adopts its processes; SIGTERM restarts it too; shutdown stops daemon and keeper', async () => {
  const k = await startKept();
  try {
    assert.equal(typeof k.keeper, 'number', k.started.stdout);
    const first = (await k.ping())!;
    assert.deepEqual(first.keeper, { pid: k.keeper, restarts: 0, last_death: null });
    // Neither `pkill node` (the name) nor `pkill -f node` (the command line) reaches the keeper.
    assert.equal(fs.readFileSync(`/proc/${k.keeper}/comm`, 'utf8'), 'claude-daemon-w\n');
    assert.equal(fs.readFileSync(`/proc/${k.keeper}/cmdline`, 'utf8').replace(/\0+$/, ''), `claude-daemon-keeper (daemon pid ${first.pid})`);
    const c = await k.client();
    const long = await c.spawnProcess({ cmd: [SLEEPER, '1000'], process_id: 'long' });
    await c.spawnProcess({ cmd: ['sh', '-c', 'echo a; sleep 1; echo b; exit 3'], process_id: 'short' });
    const env = await c.spawnProcess({ cmd: ['env'], process_id: 'env' });
    assert.ok(env.pid);
    await waitFor(async () => (await c.readOutput({ process_id: 'long' })).data === 'ready\n', { what: 'long to be ready' });
    c.close();

    const killedAt = uptimeNow();
    process.kill(first.pid, 'SIGKILL');
    const second = await k.waitNewDaemon(first.pid);
    const restartDelay = startedAt(second.pid) - killedAt;
    assert.ok(restartDelay < 1, `the new daemon started ${restartDelay.toFixed(2)} s after the kill`);
    assert.deepEqual(second.keeper, { pid: k.keeper, restarts: 1, last_death: 'signal 9 (Killed)' });

    const c2 = await k.client();
    const adopted = await c2.processInfo('long');
    assert.equal(adopted.status, 'running');
    assert.equal(adopted.pid, long.pid);
    const short = await c2.waitProcess({ process_id: 'short', timeout_s: 20 });
    assert.equal(short.exit_code, 3);
    assert.equal((await c2.readOutput({ process_id: 'short' })).data, 'a\nb\n');
    const envOut = (await c2.readOutput({ process_id: 'env' })).data;
    assert.ok(envOut.includes('PATH='), envOut);
    assert.doesNotMatch(envOut, /CLAUDE_DAEMON_KEEPER/, 'children never see the keeper’s variables');

    // SIGTERM (what a plain `pkill node` sends): the daemon stops cleanly and the keeper restarts it.
    process.kill(second.pid, 'SIGTERM');
    const third = await k.waitNewDaemon(second.pid);
    assert.equal(third.keeper?.restarts, 2);
    assert.match(third.keeper?.last_death ?? '', /exit code 75/);
    const c3 = await k.client();
    assert.equal((await c3.processInfo('long')).status, 'running');
    assert.equal((await c3.killProcess({ process_id: 'long' })).status, 'killed');

    const stop = await runEntry(BIN, ['shutdown', '--socket', k.socket]);
    assert.equal(stop.code, 0, stop.stderr);
    await waitFor(() => !alive(k.keeper!) && !alive(third.pid), { what: 'keeper and daemon to exit after shutdown', timeoutMs: 15_000 });
    assert.equal(fs.existsSync(k.socket), false);
    assert.match(fs.readFileSync(path.join(k.home, 'daemon.stderr'), 'utf8'), /stopped \(shutdown\); the keeper exits/);
  } finally {
    await k.cleanup();
  }
});

test('a killed keeper leaves its daemon running, unkept: ping says keeper null, and SIGTERM then stops it for good', async () => {
  const k = await startKept();
  try {
    const first = (await k.ping())!;
    process.kill(k.keeper!, 'SIGKILL');
    await waitFor(() => !alive(k.keeper!), { what: 'the keeper to die' });
    const after = await waitFor(async () => {
      const r = await k.ping();
      return r?.keeper === null ? r : undefined;
    }, { what: 'ping to say keeper: null' });
    assert.equal(after.pid, first.pid, 'the same daemon still serves');
    process.kill(first.pid, 'SIGTERM');
    await waitFor(() => !alive(first.pid), { what: 'the unkept daemon to stop on SIGTERM' });
    assert.equal(await k.ping(), undefined);
  } finally {
    await k.cleanup();
  }
});

test('without the compiled wrapper, or with --no-keeper, start --detach runs the daemon unkept and says so', async () => {
  for (const variant of [{ env: { CLAUDE_DAEMON_WRAP: '/nonexistent/claude-daemon-wrap' } }, { args: ['--no-keeper'] }]) {
    const k = await startKept(variant);
    try {
      assert.equal(k.keeper, null, JSON.stringify(variant));
      const r = (await k.ping())!;
      assert.equal(r.keeper, null);
      assert.equal(r.pid, (JSON.parse(k.started.stdout) as { pid: number }).pid);
      const human = await runEntry(BIN, ['ping', '--socket', k.socket]);
      assert.match(human.stdout, /, no keeper\n$/);
    } finally {
      await k.cleanup();
    }
  }
});

test('a first daemon that crashes at start makes start --detach fail at once, its keeper gone', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cd-kept-'));
  try {
    const home = path.join(dir, 'home');
    fs.mkdirSync(home, { mode: 0o700 });
    fs.writeFileSync(path.join(home, 'processes'), 'a file where the processes directory should be');
    const t0 = Date.now();
    const r = await runEntry(BIN, ['start', '--detach', '--socket', path.join(dir, 'd.sock'), '--home', home]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /the daemon exited \(code \d+\) before answering/);
    assert.match(r.stderr, /before it served; the keeper exits|refused to start/);
    assert.ok(Date.now() - t0 < 12_000, 'reported without waiting for the start timeout');
    assert.equal(fs.existsSync(path.join(dir, 'd.sock')), false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a kept daemon that refuses to start stops its keeper at once instead of restarting forever', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cd-kept-'));
  try {
    const socket = path.join(dir, 'not-a-socket');
    fs.writeFileSync(socket, 'a regular file where the socket should be');
    const t0 = Date.now();
    const r = await runEntry(BIN, ['start', '--detach', '--socket', socket, '--home', path.join(dir, 'home')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /exited \(code 78\)[^]*is not a socket/);
    assert.match(r.stderr, /refused to start .* the keeper exits/);
    assert.ok(Date.now() - t0 < 12_000, 'reported without waiting for the start timeout');
    assert.equal(fs.readFileSync(socket, 'utf8'), 'a regular file where the socket should be');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** Runs the keeper on a stand-in daemon (a shell script) until it has started `n` of them; returns the start times (s). */
async function keeperStarts(script: string, n: number): Promise<number[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cd-keep-'));
  const log = path.join(dir, 'starts');
  const keeper = spawn(WRAP, ['--keep', '--', 'sh', '-c', script, 'daemon', log], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    const lines = await waitFor(() => {
      const l = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : [];
      return l.length >= n ? l : undefined;
    }, { what: `${n} starts`, timeoutMs: 30_000 });
    return lines.slice(0, n).map(Number);
  } finally {
    keeper.kill('SIGKILL');
    await new Promise((r) => (keeper.exitCode !== null || keeper.signalCode !== null ? r(null) : keeper.once('exit', r)));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('a daemon that dies before it serves is restarted at once, then after 1 s, 2 s (backoff); one that served is restarted at once every time', async () => {
  // The first stand-in serves and dies; the later ones crash at start: the gaps between starts are
  // then at least 0, 0, 1, 2 s (lower bounds hold under any load).
  const crashing = await keeperStarts('[ -s "$1" ] || { kill -USR1 $PPID; sleep 0.05; }; cat /proc/uptime | cut -d" " -f1 >> "$1"; exit 1', 5);
  const gaps = crashing.slice(1).map((t, i) => t - crashing[i]!);
  assert.ok(gaps[2]! >= 0.95 && gaps[3]! >= 1.95, `gaps ${gaps.map((g) => g.toFixed(2)).join(', ')}`);
  // Serving (SIGUSR1 to the keeper), then dying: six starts take nowhere near the 1+2+4+8 s of a backoff.
  const serving = await keeperStarts('cat /proc/uptime | cut -d" " -f1 >> "$1"; kill -USR1 $PPID; sleep 0.05; exit 1', 6);
  assert.ok(serving[5]! - serving[0]! < 8, `six serving deaths took ${(serving[5]! - serving[0]!).toFixed(2)} s`);
});
