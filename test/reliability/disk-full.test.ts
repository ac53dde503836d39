/**
 * The state directory on a full file system (a 1 MiB tmpfs, filled to the last byte). A spawn whose
 * record cannot be written is refused with STORAGE_FULL and its command does not run on; a process
 * that ends while the disk is full keeps its exit code (the wrapper reports it over its pipe and
 * retries its exit file); once space is back, everything reaches disk without a restart.
 * Needs root (mount); skipped, and says so, elsewhere.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { DaemonError, type DaemonClient } from '../../src/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { mountTmpfs, procsWithArg, type Tmpfs } from '../helpers/tmpfs.js';
import { waitFor } from '../helpers/wait.js';
import { waitOutput } from '../processes/util.js';

const MARK = `cd-diskfull-${process.pid}`;
let tmp: string;
let disk: Tmpfs | undefined;
let d: TestDaemon | undefined;
let c: DaemonClient;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cd-diskfull-'));
  disk = mountTmpfs(path.join(tmp, 'home'), '1m');
  if (disk === undefined) return;
  d = await startTestDaemon({ dir: tmp, args: ['--max-running', '2'] });
  c = await d.client();
});

after(async () => {
  try {
    await d?.stop();
  } finally {
    for (const pid of [...procsWithArg(MARK), ...procsWithArg(`${MARK}-refused`)]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
    disk?.unmount();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

/** The failure code of `p`, or 'resolved'. */
async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return err instanceof DaemonError ? err.code : String(err);
  }
}

/** record.json of `id` as it is on disk, or undefined. */
function onDisk(id: string): { record: { status: string; exit_code: number | null } } | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(d!.home, 'processes', id, 'record.json'), 'utf8')) as never;
  } catch {
    return undefined;
  }
}

test('on a full disk a spawn is refused with STORAGE_FULL, its command does not run on, and nothing is half-known', async (t) => {
  if (disk === undefined || d === undefined) return t.skip('cannot mount a tmpfs here (needs root)');
  const marker = `${MARK}-refused`;
  disk.fill();
  try {
    assert.equal(await codeOf(c.spawnProcess({ process_id: 'refused', cmd: ['sh', '-c', 'sleep 1000; exit 0'], env: { CD_MARK: marker } })), 'STORAGE_FULL');
    // Its command was started before the record could be written: it must not live on untracked.
    await waitFor(() => procsWithArg(marker).length === 0, { what: 'the refused command to be gone' });
    assert.equal(await codeOf(c.spawnProcess({ process_id: 'with-stdin', cmd: ['cat'], stdin: 'x'.repeat(100_000) })), 'STORAGE_FULL');
    const ids = (await c.listProcesses()).processes.map((p) => p.process_id);
    assert.ok(!ids.includes('refused') && !ids.includes('with-stdin'), `refused spawns are not known: ${ids.join(' ')}`);
    assert.equal(await codeOf(c.processInfo('refused')), 'PROCESS_NOT_FOUND');
  } finally {
    disk.free();
  }
  // Nothing of them is left on disk, and the same ids work once there is space.
  await waitFor(() => !fs.existsSync(path.join(d!.home, 'processes', 'refused')), { what: 'the refused directory to go' });
  const r = await c.spawnProcess({ process_id: 'refused', cmd: ['true'] });
  assert.equal(r.status, 'running');
  assert.equal((await c.waitProcess({ process_id: 'refused' })).exit_code, 0);
  await c.removeProcess('refused');
  // A restart adopts or deletes nothing of the refused spawns.
  await d.stop();
  await d.restart();
  c = await d.client();
  assert.equal(await codeOf(c.processInfo('with-stdin')), 'PROCESS_NOT_FOUND');
  assert.deepEqual(procsWithArg(marker), []);
});

test('a process that ends while the disk is full keeps its exit code; kills and records reach disk once space is back', async (t) => {
  if (disk === undefined || d === undefined) return t.skip('cannot mount a tmpfs here (needs root)');
  const go = path.join(tmp, 'go');
  const w = await c.spawnProcess({ process_id: 'ends-full', cmd: ['sh', '-c', `echo ready; while [ ! -e ${go} ]; do sleep 0.02; done; exit 7`], env: { CD_MARK: MARK } });
  const k = await c.spawnProcess({ process_id: 'killed-full', cmd: ['sleep', '1000'], env: { CD_MARK: MARK } });
  await waitOutput(c, w.process_id);
  disk.fill();
  try {
    // Both slots (--max-running 2) are busy: this one would be queued, which needs its record first.
    assert.equal(await codeOf(c.spawnProcess({ process_id: 'queued-full', cmd: ['true'] })), 'STORAGE_FULL');
    fs.writeFileSync(go, '');
    const ended = await c.waitProcess({ process_id: w.process_id, timeout_s: 20 });
    assert.equal(ended.status, 'exited', JSON.stringify(ended));
    assert.equal(ended.exit_code, 7);
    const killed = await c.killProcess({ process_id: k.process_id });
    assert.equal(killed.status, "killed", JSON.stringify(killed));
    // Still the truth, while the disk stays full.
    assert.equal((await c.processInfo(w.process_id)).exit_code, 7);
  } finally {
    disk.free();
  }
  // Without a restart: the records and the wrapper's exit file reach disk.
  await waitFor(() => onDisk(w.process_id)?.record.status === 'exited' && onDisk(k.process_id)?.record.status === 'killed', { what: 'records on disk', timeoutMs: 20_000 });
  assert.equal(onDisk(w.process_id)?.record.exit_code, 7);
  await waitFor(() => fs.existsSync(path.join(d!.home, 'processes', w.process_id, 'exit')), { what: 'the exit file', timeoutMs: 20_000 });
  await d.stop();
  await d.restart();
  c = await d.client();
  assert.equal((await c.processInfo(w.process_id)).exit_code, 7);
  assert.equal((await c.processInfo(k.process_id)).status, 'killed');
  assert.equal(await codeOf(c.processInfo('queued-full')), 'PROCESS_NOT_FOUND');
});

test('a command that leaves a descendant while the disk is full: its exit code at once, and its exit file lands once space is back while the wrapper still keeps the descendant', async (t) => {
  if (disk === undefined || d === undefined) return t.skip('cannot mount a tmpfs here (needs root)');
  const go = path.join(tmp, 'go-linger');
  const p = await c.spawnProcess({
    process_id: 'lingers-full', keep_descendants: true, env: { CD_MARK: MARK },
    cmd: ['sh', '-c', `echo ready; while [ ! -e ${go} ]; do sleep 0.02; done; setsid sleep 1000 >/dev/null 2>&1 & exit 3`],
  });
  await waitOutput(c, p.process_id);
  const exitFile = path.join(d.home, 'processes', p.process_id, 'exit');
  disk.fill();
  try {
    fs.writeFileSync(go, '');
    // From the wrapper's report: no file needed, and not held up by the descendant it keeps.
    const ended = await c.waitProcess({ process_id: p.process_id, timeout_s: 20 });
    assert.equal(ended.status, 'exited', JSON.stringify(ended));
    assert.equal(ended.exit_code, 3);
    assert.equal(ended.descendants, 1);
    assert.ok(!fs.existsSync(exitFile), 'the disk is full: no exit file yet');
  } finally {
    disk.free();
  }
  // The wrapper retries its exit file while it lingers (it does not wait for the descendant to end).
  await waitFor(() => fs.existsSync(exitFile), { what: 'the exit file while the descendant still lives', timeoutMs: 20_000 });
  assert.equal((await c.processInfo(p.process_id)).descendants, 1, 'the wrapper still keeps the descendant');
  const killed = await c.killProcess({ process_id: p.process_id });
  assert.equal(killed.exit_code, 3);
  assert.equal(killed.descendants, 0);
  await c.removeProcess(p.process_id);
});

test('load_module on a full disk says STORAGE_FULL, the loaded version keeps serving, and the new one loads once there is space', async (t) => {
  if (disk === undefined || d === undefined) return t.skip('cannot mount a tmpfs here (needs root)');
  const file = path.join(d.modulesDir, 'fullmod.js');
  fs.writeFileSync(file, 'export function v() { return 1; }\n');
  await c.loadModule('fullmod');
  disk.fill();
  try {
    fs.writeFileSync(`${file}.tmp`, 'export function v() { return 2; }\n');
    fs.renameSync(`${file}.tmp`, file);
    assert.equal(await codeOf(c.loadModule('fullmod')), 'STORAGE_FULL');
    assert.equal(await c.callFunction('fullmod', 'v'), 1);
  } finally {
    disk.free();
  }
  await c.loadModule('fullmod');
  assert.equal(await c.callFunction('fullmod', 'v'), 2);
  await c.unloadModule('fullmod');
});
