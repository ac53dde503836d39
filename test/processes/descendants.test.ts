/**
 * Descendants that outlive their command: `sh -c 'setsid sleep 300 & exit 0'` ends at once, its
 * sleep (in a session of its own) lives on. The wrapper, a child subreaper, keeps it: the record
 * ends at once (wait returns), says how many are left, and `kill` / `remove_process` / the grace
 * period (default 5 s, `descendants_grace_s`, `keep_descendants`) end them; the pids cgroup goes
 * with them. Nothing ever escapes to pid 1.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { DaemonClient } from '../../src/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';
import { alive, pidFrom } from './util.js';

let d: TestDaemon;
let c: DaemonClient;
before(async () => {
  d = await startTestDaemon();
  c = await d.client();
});
/** Every leftover started, killed at the end should a failed assertion have left one alive. */
const started: number[] = [];
after(async () => {
  await d.stop();
  for (const pid of started) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

let n = 0;
/** Spawns a shell that starts a setsid'd `sleep 300` and exits 0 once it runs; resolves with the sleep's pid. */
async function leaveBehind(id: string, opts: { descendants_grace_s?: number; keep_descendants?: boolean } = {}): Promise<number> {
  const pidFile = path.join(d.dir, `leftover-${n++}.pid`);
  const script = 'setsid sh -c \'echo $$ > "$1.tmp"; mv "$1.tmp" "$1"; exec sleep 300\' _ "$1" >/dev/null 2>&1 & while [ ! -s "$1" ]; do sleep 0.01; done; exit 0';
  await c.spawnProcess({ cmd: ['sh', '-c', script, 'sh', pidFile], process_id: id, ...opts });
  const pid = await pidFrom(pidFile);
  started.push(pid);
  return pid;
}

/** Parent pid of `pid` (from /proc/PID/stat). */
function ppidOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** The pids cgroup directory a process is in (cgroup v1 or v2), or undefined (no cgroup in use). */
function pidsCgroupOf(pid: number): string | undefined {
  const own = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').map((l) => l.split(':'));
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  const v1 = own.find(([, ctl]) => (ctl ?? '').split(',').includes('pids'));
  for (const line of mounts) {
    const [pre, post] = line.split(' - ');
    const [fstype, , options] = (post ?? '').split(' ');
    const point = pre?.split(' ')[4];
    if (point === undefined) continue;
    if (v1 && fstype === 'cgroup' && options?.split(',').includes('pids')) return path.join(point, v1[2]!);
    if (!v1 && fstype === 'cgroup2') return path.join(point, own.find(([, ctl]) => ctl === '')?.[2] ?? '/');
  }
  return undefined;
}

/** The leftover's own cgroup when the daemon uses cgroups (named after the process id), else undefined. */
function ownCgroup(pid: number, id: string): string | undefined {
  const cg = pidsCgroupOf(pid);
  return cg !== undefined && path.basename(cg).startsWith(`${id}.`) ? cg : undefined;
}

test('a setsid leftover: wait returns when the command ends, the record counts it, the default grace (5 s) ends it', async () => {
  const sleep = await leaveBehind('lo-default');
  const w = await c.waitProcess({ process_id: 'lo-default', timeout_s: 20 });
  assert.equal(w.status, 'exited');
  assert.equal(w.exit_code, 0);
  assert.equal(w.timed_out, undefined);
  assert.equal(w.descendants_grace_s, 5);
  assert.ok(alive(sleep), 'the leftover lives on during its grace');
  const wrapper = ppidOf(sleep);
  assert.notEqual(wrapper, 1, 'reparented to the wrapper (a subreaper), not to pid 1');
  assert.equal((await c.processInfo('lo-default')).descendants, 1);
  const cg = ownCgroup(sleep, 'lo-default');
  if ((await c.ping()).pids_limit?.mechanism.startsWith('cgroup')) assert.ok(cg !== undefined, 'the leftover is in its own pids cgroup');
  await waitFor(() => !alive(sleep), { what: 'the grace to end the leftover', timeoutMs: 30_000 });
  await waitFor(async () => (await c.processInfo('lo-default')).descendants === 0, { what: 'descendants to read 0' });
  await waitFor(() => !alive(wrapper), { what: 'the wrapper to exit' });
  if (cg !== undefined) await waitFor(() => !fs.existsSync(cg), { what: `${cg} to be removed` });
  assert.equal((await c.processInfo('lo-default')).status, 'exited', 'the outcome stays the command\'s own');
});

test('kill_process ends the leftovers of an ended command', async () => {
  const sleep = await leaveBehind('lo-kill', { descendants_grace_s: 600 });
  await c.waitProcess({ process_id: 'lo-kill', timeout_s: 20 });
  assert.equal((await c.processInfo('lo-kill')).descendants, 1);
  const k = await c.killProcess({ process_id: 'lo-kill' });
  assert.equal(k.status, 'exited', 'the command had exited 0 before the kill');
  assert.equal(k.descendants, 0);
  assert.equal(alive(sleep), false);
});

test('remove_process ends the leftovers and removes their pids cgroup', async () => {
  const sleep = await leaveBehind('lo-rm', { descendants_grace_s: 600 });
  await c.waitProcess({ process_id: 'lo-rm', timeout_s: 20 });
  const cg = ownCgroup(sleep, 'lo-rm');
  await c.removeProcess('lo-rm');
  assert.equal(alive(sleep), false, 'no process of a removed record survives it');
  if (cg !== undefined) assert.equal(fs.existsSync(cg), false, `${cg} was left behind`);
});

test('keep_descendants keeps them past any grace; remove_process still ends them', async () => {
  const kept = await leaveBehind('lo-keep', { keep_descendants: true });
  // A control with no grace at all: once its leftover is gone, the kept one has outlived a grace.
  const control = await leaveBehind('lo-control', { descendants_grace_s: 0 });
  await waitFor(() => !alive(control), { what: 'the control leftover to be ended', timeoutMs: 30_000 });
  await waitFor(async () => (await c.processInfo('lo-keep')).status === 'exited', { what: 'lo-keep to end' });
  const info = await c.processInfo('lo-keep');
  assert.equal(info.descendants_grace_s, null);
  assert.equal(info.descendants, 1);
  assert.ok(alive(kept), 'kept');
  const cg = ownCgroup(kept, 'lo-keep');
  await c.removeProcess('lo-keep');
  assert.equal(alive(kept), false);
  if (cg !== undefined) assert.equal(fs.existsSync(cg), false, `${cg} was left behind`);
  await c.removeProcess('lo-control');
});

test('a lingering wrapper is re-adopted after a daemon restart: counted, then killed', async () => {
  const sleep = await leaveBehind('lo-restart', { keep_descendants: true });
  await c.waitProcess({ process_id: 'lo-restart', timeout_s: 20 });
  await d.kill('SIGKILL');
  await d.restart();
  c = await d.client();
  const info = await c.processInfo('lo-restart');
  assert.equal(info.status, 'exited');
  assert.equal(info.descendants, 1);
  const k = await c.killProcess({ process_id: 'lo-restart' });
  assert.equal(k.descendants, 0);
  assert.equal(alive(sleep), false);
});

test('a command that ends while its daemon is down, leaving a descendant: the restarted daemon records the end and counts it', async () => {
  const go = path.join(d.dir, 'lo-down.go');
  const pidFile = path.join(d.dir, 'lo-down.pid');
  // The shell waits for `go`, then exits 3, leaving its setsid'd sleep behind.
  const script = 'setsid sh -c \'echo $$ > "$1.tmp"; mv "$1.tmp" "$1"; exec sleep 300\' _ "$1" >/dev/null 2>&1 & while [ ! -e "$2" ]; do sleep 0.02; done; exit 3';
  await c.spawnProcess({ cmd: ['sh', '-c', script, 'sh', pidFile, go], process_id: 'lo-down', keep_descendants: true });
  const sleep = await pidFrom(pidFile);
  started.push(sleep);
  await d.kill('SIGKILL');
  fs.writeFileSync(go, '');
  await d.restart();
  c = await d.client();
  const w = await c.waitProcess({ process_id: 'lo-down', timeout_s: 20 });
  assert.equal(w.status, 'exited');
  assert.equal(w.exit_code, 3);
  await waitFor(async () => (await c.processInfo('lo-down')).descendants === 1, { what: 'the leftover to be counted' });
  await c.removeProcess('lo-down');
  assert.equal(alive(sleep), false);
});

test('the protocol refuses keep_descendants together with descendants_grace_s', async () => {
  await assert.rejects(c.spawnProcess({ cmd: ['true'], keep_descendants: true, descendants_grace_s: 1 }), (err: { code?: string; message?: string }) => {
    assert.equal(err.code, 'INVALID_PARAMS');
    assert.match(err.message ?? '', /not both/);
    return true;
  });
});
