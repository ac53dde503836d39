/**
 * A pid names a process only together with its start time: the kill ladder, restore and the
 * supervisor's own checks never act on a pid whose start time differs from the recorded one (the
 * pid was reused by a stranger). Pid reuse cannot be produced on demand, so the stranger here is a
 * live process of ours whose pid is written into the state with a start time it does not have,
 * exactly what a reused pid looks like. Each test fails if its start-time comparison is removed.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { resolveConfig } from '../../src/daemon/config.js';
import { createLogger } from '../../src/daemon/log.js';
import { Entry } from '../../src/daemon/supervisor/entry.js';
import { createSupervisor, type Supervisor } from '../../src/daemon/supervisor/index.js';
import { runLadder, signalTree } from '../../src/daemon/supervisor/kill.js';
import { ProcessDir, type StoredProcess } from '../../src/daemon/supervisor/store.js';
import type { ProcessStatus } from '../../src/protocol/schemas/processes.js';
import { waitFor } from '../helpers/wait.js';
import { alive } from './util.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cd-identity-'));
const kids: ChildProcess[] = [];
const sups: Supervisor[] = [];
after(async () => {
  for (const s of sups) await s.stop({ killProcesses: false });
  for (const k of kids) if (k.exitCode === null && k.signalCode === null) k.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A `sleep` in a process group of its own (like a command under the wrapper); its pid and start time. */
async function sleeper(): Promise<{ pid: number; start: number }> {
  const k = spawn('sleep', ['1000'], { stdio: 'ignore', detached: true });
  kids.push(k);
  await new Promise((r) => k.once('spawn', r));
  return { pid: k.pid!, start: startOf(k.pid!) };
}

/** Field 22 of /proc/PID/stat, parsed here (not with the code under test). */
function startOf(pid: number): number {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[19]);
}

function stored(id: string, status: ProcessStatus, ids: { pid: number | null; pidStart: number | null; wrapperPid: number | null; wrapperStart: number | null }): StoredProcess {
  const now = new Date().toISOString();
  return {
    version: 1,
    record: {
      process_id: id, pid: ids.pid, status, cmd: ['sleep', '1000'], cwd: '/', name: null, exit_code: status === 'exited' ? 0 : null, signal: null,
      created_at: now, started_at: now, ended_at: status === 'running' ? null : now, duration_ms: null, stdout_bytes: 0, stderr_bytes: 0,
      timeout_s: null, reason: null, descendants_grace_s: 5, descendants: status === 'running' ? null : 0,
    },
    seq: 1, env: null, has_stdin: false,
    wrapper_pid: ids.wrapperPid, wrapper_start: ids.wrapperStart, pid_start: ids.pidStart,
  };
}

function entryOf(id: string, status: ProcessStatus, ids: Parameters<typeof stored>[2]): Entry {
  return new Entry(stored(id, status, ids), new ProcessDir(path.join(dir, 'entries', id)));
}

test('the kill ladder never signals a pid whose start time changed between two steps', async () => {
  const cmd = await sleeper();
  const stranger = await sleeper();
  const e = entryOf('ladder', 'running', { pid: cmd.pid, pidStart: cmd.start, wrapperPid: null, wrapperStart: null });
  // An earlier step signalled a process at this pid; it died and a stranger now has the pid.
  e.signalled.set(stranger.pid, stranger.start - 1);
  signalTree(e, 'SIGTERM');
  await waitFor(() => !alive(cmd.pid), { what: 'the command to get the step' });
  assert.equal(alive(stranger.pid), true, 'a reused pid was signalled by a later ladder step');
  // Control: with its real start time, the same entry would have signalled it.
  e.signalled.set(stranger.pid, stranger.start);
  signalTree(e, 'SIGTERM');
  await waitFor(() => !alive(stranger.pid), { what: 'the control: a pid with its own start time is signalled' });
});

test('the survivors sweep after the command ended never signals a pid whose start time changed', async () => {
  const survivor = await sleeper();
  const stranger = await sleeper();
  const e = entryOf('sweep', 'exited', { pid: null, pidStart: null, wrapperPid: null, wrapperStart: null });
  e.signalled.set(survivor.pid, survivor.start);
  e.signalled.set(stranger.pid, stranger.start + 1);
  await runLadder(e, [{ signal: 'SIGTERM', delay_ms: 0 }, { signal: 'SIGKILL', delay_ms: 20 }]);
  await waitFor(() => !alive(survivor.pid), { what: 'the real survivor to get the sweep' });
  await new Promise((r) => setTimeout(r, 100)); // both steps of the sweep (20 ms apart) have run
  assert.equal(alive(stranger.pid), true, 'the sweep signalled a reused pid');
});

test('a recorded command or wrapper pid with another start time is never signalled, nor its group', async () => {
  const stranger = await sleeper();
  const strangerW = await sleeper();
  const e = entryOf('ids', 'running', { pid: stranger.pid, pidStart: stranger.start + 7, wrapperPid: strangerW.pid, wrapperStart: strangerW.start + 7 });
  assert.equal(signalTree(e, 'SIGTERM'), 0, 'nothing of ours is alive: nothing may be signalled');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(alive(stranger.pid), true);
  assert.equal(alive(strangerW.pid), true);
});

/** A supervisor restoring `records` (written as record.json files first) from a fresh home. */
async function restoreFrom(name: string, records: StoredProcess[], extraDirs: string[] = []): Promise<{ sup: Supervisor; root: string }> {
  const home = path.join(dir, name);
  const root = path.join(home, 'processes');
  for (const s of records) {
    fs.mkdirSync(path.join(root, s.record.process_id), { recursive: true });
    fs.writeFileSync(path.join(root, s.record.process_id, 'record.json'), JSON.stringify(s));
  }
  for (const d of extraDirs) fs.mkdirSync(path.join(root, d), { recursive: true });
  const sup = await createSupervisor(resolveConfig({ socket: path.join(dir, `${name}.sock`), home, logToStderr: false }), createLogger(undefined, false));
  sups.push(sup);
  return { sup, root };
}

test('restore never adopts a wrapper (or command) pid whose start time differs', async () => {
  const w = await sleeper();
  const c = await sleeper();
  const ended = await sleeper();
  const { sup } = await restoreFrom('restore', [
    stored('r-running', 'running', { pid: c.pid, pidStart: c.start + 3, wrapperPid: w.pid, wrapperStart: w.start + 3 }),
    stored('r-ended', 'exited', { pid: null, pidStart: null, wrapperPid: ended.pid, wrapperStart: ended.start + 3 }),
  ]);
  // Decided at restore, before any polling: never `running` on the strength of a pid alone.
  const r = sup.get('r-running');
  assert.equal(r.status, 'lost');
  assert.match(r.reason ?? '', /no outcome/);
  // An ended record is not taken to have a lingering wrapper (one keeping leftovers) either.
  assert.equal(sup.lingering('r-ended'), false);
  const t0 = Date.now();
  const k = await sup.kill('r-ended');
  assert.equal(k.status, 'exited');
  assert.equal(k.descendants, 0);
  assert.ok(Date.now() - t0 < 4000, `kill of an ended record with a reused wrapper pid took ${Date.now() - t0} ms`);
  const k2 = await sup.kill('r-running');
  assert.equal(k2.status, 'lost');
  for (const p of [w, c, ended]) assert.equal(alive(p.pid), true, `stranger ${p.pid} was signalled`);
});

test("the supervisor's own id check: spawn() refuses unsafe ids (not only the protocol schema), and restore skips unsafe directory names", async () => {
  const { sup, root } = await restoreFrom('ids', [], ['bad name']);
  for (const id of ['..', '.', '../escape', 'a/b', '', 'x'.repeat(65), 'sp ace']) {
    await assert.rejects(sup.spawn({ cmd: ['true'], process_id: id }), (err: { code?: string }) => err.code === 'INVALID_PARAMS', `id ${JSON.stringify(id)}`);
    assert.equal(sup.find(id), undefined);
  }
  assert.equal(fs.existsSync(path.join(root, '..', 'escape')), false, 'a directory was created outside the state directory');
  assert.equal(fs.existsSync(path.join(path.dirname(root), 'escape')), false);
  // An unsafe name found at start is left alone (neither adopted nor deleted as "never acknowledged").
  assert.equal(fs.existsSync(path.join(root, 'bad name')), true);
  assert.equal(sup.list().processes.length, 0);
});

test("once the command has ended, its old process group id is never signalled (a stranger's group may have it)", async () => {
  const wrapper = await sleeper(); // stands in for a live wrapper of ours, keeping leftovers
  const stranger = await sleeper(); // leads a group whose id is the ended command's old pid
  const e = entryOf('old-group', 'exited', { pid: stranger.pid, pidStart: stranger.start + 7, wrapperPid: wrapper.pid, wrapperStart: wrapper.start });
  e.lingering = true;
  signalTree(e, 'SIGTERM');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(alive(stranger.pid), true, 'kill(-pgid) of an ended command reached a stranger');
});
