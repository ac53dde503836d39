/**
 * A reboot: every record carries the boot id it started under. After a reboot, no pid from before
 * it is adopted or signalled, even when a live process matches its pid and start time: the record
 * becomes `lost` (saying why), or `exited` when its exit file says so. A reboot is simulated by
 * editing the boot id on disk while the daemon is down.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';
import { alive, fx, waitOutput } from '../processes/util.js';

let d: TestDaemon;
before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d.stop();
  fs.rmSync(d.dir, { recursive: true, force: true });
});

/** record.json as the tests edit it. */
type Stored = Record<string, unknown> & { record: Record<string, unknown> };

const BOOT_ID = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
/** This boot's start (seconds since the epoch), from /proc/stat. */
const BTIME_S = Number(/^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'))?.[1]);
const recordFile = (id: string): string => path.join(d.home, 'processes', id, 'record.json');
const readStored = (id: string): Stored => JSON.parse(fs.readFileSync(recordFile(id), 'utf8'));
const editStored = (id: string, edit: (s: Stored) => void): void => {
  const s = readStored(id);
  edit(s);
  fs.writeFileSync(recordFile(id), JSON.stringify(s));
};

/** Kills `pid` and everything under it, parents first (a parent that outlived its child would go on). */
function killTree(pid: number): void {
  let children: string[] = [];
  try {
    children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean);
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
  for (const child of children) killTree(Number(child));
}

test('each record stores the boot id it started under', async () => {
  const c = await d.client();
  await c.spawnProcess({ cmd: ['true'], process_id: 'booted' });
  await c.waitProcess({ process_id: 'booted', timeout_s: 20 });
  assert.equal(readStored('booted')['boot_id'], BOOT_ID);
});

test('after a reboot, a live process matching a record\'s pid and start time is never adopted or signalled', async () => {
  let c = await d.client();
  // The very process the record names is alive, with its start time: only the boot id differs.
  const r = await c.spawnProcess({ cmd: [fx('sleeper.sh')], process_id: 'pre-boot' });
  await waitOutput(c, 'pre-boot');
  const ended = await c.spawnProcess({ cmd: [fx('print-exit.sh'), '9', 'x'], process_id: 'pre-boot-exited' });
  await c.waitProcess({ process_id: 'pre-boot-exited', timeout_s: 20 });
  const wrapper = readStored('pre-boot')['wrapper_pid'] as number;
  await d.stop();
  try {
    editStored('pre-boot', (s) => (s['boot_id'] = '00000000-0000-4000-8000-000000000000'));
    // One that ended but whose record still says running (the daemon died first): the exit file decides.
    editStored('pre-boot-exited', (s) => {
      s['boot_id'] = '00000000-0000-4000-8000-000000000000';
      Object.assign(s.record, { status: 'running', exit_code: null, ended_at: null, pid: ended.pid });
    });
    await d.restart();
    c = await d.client();
    const info = await c.processInfo('pre-boot');
    assert.equal(info.status, 'lost');
    assert.match(info.reason ?? '', /reboot/);
    const k = await c.killProcess({ process_id: 'pre-boot', signal: 'SIGKILL' });
    assert.equal(k.status, 'lost');
    assert.ok(alive(r.pid!) && alive(wrapper), 'never signalled');
    const ex = await c.processInfo('pre-boot-exited');
    assert.equal(ex.status, 'exited');
    assert.equal(ex.exit_code, 9);
    // Persisted so: the next daemon does not look again.
    await d.stop();
    await d.restart();
    c = await d.client();
    assert.equal((await c.processInfo('pre-boot')).status, 'lost');
    assert.ok(alive(r.pid!));
  } finally {
    killTree(wrapper);
  }
  await waitFor(() => !alive(r.pid!), { what: 'cleanup' });
});

test('a record from before boot ids were stored is judged by its start: before this boot means lost', async () => {
  let c = await d.client();
  const r = await c.spawnProcess({ cmd: [fx('sleeper.sh')], process_id: 'legacy' });
  await waitOutput(c, 'legacy');
  const wrapper = readStored('legacy')['wrapper_pid'] as number;
  await d.stop();
  try {
    editStored('legacy', (s) => {
      delete s['boot_id'];
      s.record.started_at = new Date((BTIME_S - 3600) * 1000).toISOString();
    });
    await d.restart();
    c = await d.client();
    const info = await c.processInfo('legacy');
    assert.equal(info.status, 'lost');
    assert.match(info.reason ?? '', /boot/);
    assert.ok(alive(r.pid!));
  } finally {
    killTree(wrapper);
  }
  await waitFor(() => !alive(r.pid!), { what: 'cleanup' });
});

test('a directory without a record whose wrapper wrote `started` before this boot is not adopted from a live look-alike', async () => {
  let c = await d.client();
  const r = await c.spawnProcess({ cmd: [fx('sleeper.sh')], process_id: 'orphan-pre-boot' });
  await waitOutput(c, 'orphan-pre-boot');
  const wrapper = readStored('orphan-pre-boot')['wrapper_pid'] as number;
  await d.stop();
  try {
    // As if the daemon had died before writing record.json, in an earlier boot.
    fs.rmSync(recordFile('orphan-pre-boot'));
    const before = new Date((BTIME_S - 3600) * 1000);
    fs.utimesSync(path.join(d.home, 'processes', 'orphan-pre-boot', 'started'), before, before);
    await d.restart();
    c = await d.client();
    const info = await c.processInfo('orphan-pre-boot');
    assert.equal(info.status, 'lost');
    assert.match(info.reason ?? '', /boot/);
    assert.match(info.cmd[0] ?? '', /unknown/, 'a stranger\'s command line is not taken for its own');
    assert.ok(alive(r.pid!) && alive(wrapper), 'never signalled');
  } finally {
    killTree(wrapper);
  }
  await waitFor(() => !alive(r.pid!), { what: 'cleanup' });
});
