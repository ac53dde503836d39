/**
 * One daemon per state directory: the first daemon holds an exclusive lock on its home for its
 * whole life; a second `start` on the same home (whatever its socket) fails at once naming the
 * holder, and restores, starts or deletes nothing. The lock lives in the daemon's own open file
 * description, so no child keeps it and a SIGKILLed daemon's successor starts at once.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';

import { runCli, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';
import { alive, fx, waitOutput } from '../processes/util.js';

const daemons: TestDaemon[] = [];
after(async () => {
  for (const d of daemons) {
    await d.stop({ killProcesses: true }); // ends what it still runs: a failed test leaves none behind
    fs.rmSync(d.dir, { recursive: true, force: true });
  }
});

/** Lines in a marker file each queued job appends one line to. */
const lines = (f: string): number => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).length : 0);

test('a second daemon on the same home but another socket is refused at once, naming the holder; nothing of the first is touched', async () => {
  const d = await startTestDaemon({ args: ['--max-running', '1'] });
  daemons.push(d);
  const c = await d.client();
  const go = path.join(d.dir, 'go');
  const mark = path.join(d.dir, 'ran');
  await c.spawnProcess({ cmd: [fx('wait-file.sh'), go], process_id: 'blocker' });
  await waitOutput(c, 'blocker');
  await c.spawnProcess({ cmd: ['sh', '-c', `echo once >> ${mark}`], process_id: 'queued' });
  assert.equal((await c.processInfo('queued')).status, 'queued');
  fs.writeFileSync(path.join(d.modulesDir, 'm.ts'), 'export function hi() { return 42; }\n');
  assert.equal(await c.callFunction('m', 'hi'), 42);
  const snapshots = fs.readdirSync(path.join(d.home, 'module-snapshots'));
  assert.ok(snapshots.length > 0);

  const other = path.join(d.dir, 'other.sock');
  const t0 = Date.now();
  const second = await runCli(['start', '--socket', other, '--home', d.home, '--modules-dir', d.modulesDir, '--max-running', '10'], { timeoutMs: 15_000 });
  assert.equal(second.code, 1, second.stderr);
  assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
  assert.match(second.stderr, new RegExp(`pid ${d.proc.pid}\\b`));
  assert.ok(second.stderr.includes(d.socket), second.stderr);
  assert.doesNotMatch(second.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(fs.existsSync(other), false, 'the loser never listened');

  // The first daemon's work ran once, its snapshots are where they were, and it still serves.
  assert.deepEqual(fs.readdirSync(path.join(d.home, 'module-snapshots')), snapshots);
  await c.loadModule('m');
  assert.equal(await c.callFunction('m', 'hi'), 42);
  assert.equal(lines(mark), 0, 'the queued job must not have run elsewhere');
  fs.writeFileSync(go, '');
  await c.waitProcess({ process_id: 'queued', timeout_s: 20 });
  assert.equal(lines(mark), 1);
});

test('two daemons started at once on one home (different sockets): exactly one serves', async () => {
  const d = await startTestDaemon();
  daemons.push(d);
  await d.stop();
  const socks = [path.join(d.dir, 'a.sock'), path.join(d.dir, 'b.sock')];
  const runs = socks.map((s) => runCli(['start', '--socket', s, '--home', d.home, '--modules-dir', d.modulesDir], { timeoutMs: 20_000 }).catch((e: Error) => e));
  // Whoever wins serves until shut down; the loser exits 1 at once.
  const winner = await waitFor(() => socks.find((s) => fs.existsSync(s)), { what: 'one daemon to listen', timeoutMs: 15_000 });
  const loser = socks.find((s) => s !== winner)!;
  await runCli(['shutdown', '--socket', winner]);
  const results = await Promise.all(runs);
  const codes = results.map((r) => (r instanceof Error ? r.message : r.code));
  assert.deepEqual([...codes].sort(), [0, 1], JSON.stringify(results));
  assert.equal(fs.existsSync(loser), false);
});

test('the lock is held by the daemon alone: no launcher, wrapper or child has it, and a SIGKILLed daemon is replaced at once', async () => {
  const d = await startTestDaemon();
  daemons.push(d);
  const c = await d.client();
  const r = await c.spawnProcess({ cmd: [fx('sleeper.sh')], process_id: 'held' });
  await waitOutput(c, 'held');
  const lock = fs.realpathSync(path.join(d.home, 'daemon.lock'));
  const holders = (): number[] =>
    fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number).filter((pid) => {
      try {
        return fs.readdirSync(`/proc/${pid}/fd`).some((fd) => {
          try {
            return fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === lock;
          } catch {
            return false;
          }
        });
      } catch {
        return false;
      }
    });
  assert.deepEqual(holders(), [d.proc.pid]);
  const text = fs.readFileSync(lock, 'utf8');
  assert.match(text, new RegExp(`"pid":${d.proc.pid}\\b`));
  assert.ok(text.includes(JSON.stringify(d.socket)), text);
  await d.kill('SIGKILL');
  assert.ok(alive(r.pid!));
  await d.restart();
  const c2 = await d.client();
  assert.equal((await c2.processInfo('held')).status, 'running');
  await c2.killProcess({ process_id: 'held' });
});

test('a daemon that fails to start (its socket cannot be bound) starts none of its queued work', async () => {
  const d = await startTestDaemon({ args: ['--max-running', '1'] });
  daemons.push(d);
  const c = await d.client();
  const go = path.join(d.dir, 'go');
  const mark = path.join(d.dir, 'ran');
  await c.spawnProcess({ cmd: [fx('wait-file.sh'), go], process_id: 'blocker' });
  await waitOutput(c, 'blocker');
  for (const id of ['q1', 'q2', 'q3']) await c.spawnProcess({ cmd: ['sh', '-c', `echo ${id} >> ${mark}`], process_id: id });
  await d.stop();
  // Nothing at the socket path, so the start gets as far as binding it, which fails.
  const r = await runCli(['start', '--socket', path.join(d.dir, 'missing', 'x.sock'), '--home', d.home, '--modules-dir', d.modulesDir, '--max-running', '100']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /cannot listen/);
  for (const id of ['q1', 'q2', 'q3']) {
    const s = JSON.parse(fs.readFileSync(path.join(d.home, 'processes', id, 'record.json'), 'utf8')) as { record: { status: string } };
    assert.equal(s.record.status, 'queued', id);
  }
  assert.equal(lines(mark), 0);
  // The real daemon runs them, once each.
  await d.restart();
  const c2 = await d.client();
  fs.writeFileSync(go, '');
  for (const id of ['q1', 'q2', 'q3']) await c2.waitProcess({ process_id: id, timeout_s: 30 });
  assert.equal(lines(mark), 3);
});

test('without the wrapper binary the lock is taken with flock(1), else python3; with no way at all, start refuses and says what to install', async () => {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'cd-lockbin-'));
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'cd-lockbin-'));
  try {
    const py = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
    fs.symlinkSync(py, path.join(bin, 'python3'));
    const noWrapper = { CLAUDE_DAEMON_WRAP: path.join(empty, 'claude-daemon-wrap') };
    // Only python3 on PATH: the first daemon locks with it...
    const d = await startTestDaemon({ env: { ...noWrapper, PATH: bin } });
    daemons.push(d);
    const start = (socket: string, env: NodeJS.ProcessEnv): ReturnType<typeof runCli> =>
      runCli(['start', '--socket', path.join(d.dir, socket), '--home', d.home, '--modules-dir', d.modulesDir], { env, timeoutMs: 20_000 });
    // ...and the second, with flock(1), finds it taken: it is the same flock(2) lock.
    const second = await start('b.sock', noWrapper);
    assert.equal(second.code, 1, second.stderr);
    assert.match(second.stderr, new RegExp(`in use by another daemon \\(pid ${d.proc.pid}, `));
    await d.stop();
    const none = await start('c.sock', { ...noWrapper, PATH: empty });
    assert.equal(none.code, 1, none.stderr);
    assert.match(none.stderr, /cannot lock the state directory .*install util-linux's flock/);
    assert.equal(fs.existsSync(path.join(d.dir, 'c.sock')), false);
  } finally {
    fs.rmSync(bin, { recursive: true, force: true });
    fs.rmSync(empty, { recursive: true, force: true });
  }
});
