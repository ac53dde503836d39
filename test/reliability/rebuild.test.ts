/**
 * Rebuilding while a daemon runs (`npm test` runs the build): the daemon must not depend on dist/
 * staying in place. It holds its wrapper binary open and starts its launcher through that
 * descriptor; the launcher starts wrappers through its own /proc/self/exe; the build replaces dist/
 * with one rename; the keeper restarts the daemon from whatever dist/ is there then. Run on a copy
 * of the package in a temp directory, so the suite's own dist/ is never touched.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { DaemonClient } from '../../src/index.js';
import { ROOT } from '../helpers/daemon.js';
import { alive, startKept } from '../helpers/kept.js';
import { listProcs } from '../helpers/proc.js';
import { waitFor } from '../helpers/wait.js';

/** A copy of the package (dist/, package.json, node_modules linked) that the test may break. */
function copyPackage(dir: string): string {
  const pkg = path.join(dir, 'pkg');
  fs.mkdirSync(pkg);
  fs.cpSync(path.join(ROOT, 'dist'), path.join(pkg, 'dist'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(pkg, 'package.json'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(pkg, 'node_modules'));
  return pkg;
}

/** Spawns `echo N`, waits for it and checks its output: a spawn that works end to end. */
async function spawnWorks(c: DaemonClient, id: string): Promise<void> {
  await c.spawnProcess({ cmd: ['echo', id], process_id: id });
  const w = await c.waitProcess({ process_id: id, timeout_s: 20 });
  assert.equal(w.exit_code, 0, `${id}: ${JSON.stringify(w)}`);
  assert.equal((await c.readOutput({ process_id: id })).data, `${id}\n`);
}

/** The daemon's launcher (claude-daemon-wrap --server, its child). */
function launcherOf(daemonPid: number): number | undefined {
  return listProcs().find((p) => p.ppid === daemonPid && fs.readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').endsWith('--server\0'))?.pid;
}

function runBuild(out: string): Promise<number | null> {
  return new Promise((resolve) => {
    const b = spawn(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs'), '--out', out], { stdio: 'ignore' });
    b.on('close', resolve);
  });
}

test('a daemon keeps spawning while its dist/ is rebuilt, deleted and restored, and its keeper restarts it from the dist/ there then', async () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'cd-rebuild-'));
  let k: Awaited<ReturnType<typeof startKept>> | undefined;
  try {
    const pkg = copyPackage(base);
    const dist = path.join(pkg, 'dist');
    k = await startKept({ bin: path.join(dist, 'bin.js') });
    assert.equal(typeof k.keeper, 'number');
    const first = (await k.ping())!;
    let c = await k.client();
    await spawnWorks(c, 'before');

    // The build replaces dist/ under the running daemon; spawns keep working throughout, and dist/
    // is complete whenever one looks (at most one look may fall between the build's two renames).
    const oldInode = fs.statSync(path.join(dist, 'claude-daemon-wrap')).ino;
    let building = true;
    let looks = 0;
    let missing = 0;
    const watch = setInterval(() => {
      looks++;
      if (!fs.existsSync(path.join(dist, 'bin.js')) || !fs.existsSync(path.join(dist, 'claude-daemon-wrap'))) missing++;
    }, 5);
    const built = runBuild(dist).finally(() => (building = false));
    let n = 0;
    try {
      while (building) await spawnWorks(c, `during-${n++}`);
    } finally {
      clearInterval(watch);
    }
    assert.equal(await built, 0, 'the build succeeded');
    assert.ok(missing <= 1, `dist/ was incomplete at ${missing} of ${looks} looks during the build`);
    assert.notEqual(fs.statSync(path.join(dist, 'claude-daemon-wrap')).ino, oldInode, 'dist/ was replaced');
    assert.deepEqual(fs.readdirSync(pkg).sort(), ['dist', 'node_modules', 'package.json'], 'no build leftovers beside dist/');
    await spawnWorks(c, 'after-build');

    // dist/ gone altogether: the running launcher starts wrappers through its own binary...
    const launcher = launcherOf(first.pid);
    assert.ok(launcher !== undefined, 'the daemon has a launcher');
    fs.rmSync(dist, { recursive: true, force: true });
    await spawnWorks(c, 'no-dist');
    // ...and a new launcher (the old one killed) starts from the daemon's descriptor, not the path.
    process.kill(launcher, 'SIGKILL');
    await waitFor(() => !alive(launcher), { what: 'the launcher to die' });
    await spawnWorks(c, 'new-launcher');
    c.close();

    // The daemon dies while dist/ is missing: the keeper keeps trying (backing off) and succeeds
    // once dist/ is back; everything spawned before is still known.
    process.kill(first.pid, 'SIGKILL');
    await waitFor(() => fs.existsSync(path.join(k!.home, 'daemon.stderr')) && /before it served/.test(fs.readFileSync(path.join(k!.home, 'daemon.stderr'), 'utf8')), {
      what: 'the keeper to fail a start without dist/',
      timeoutMs: 15_000,
    });
    fs.cpSync(path.join(ROOT, 'dist'), dist, { recursive: true });
    const back = await k.waitNewDaemon(first.pid, 30_000);
    assert.ok((back.keeper?.restarts ?? 0) >= 2, JSON.stringify(back.keeper));
    c = await k.client();
    const ids = (await c.listProcesses()).processes.map((p) => p.process_id);
    for (const id of ['before', 'after-build', 'new-launcher', 'no-dist', 'during-0']) assert.ok(ids.includes(id), `${id} is known after the restart`);
    await spawnWorks(c, 'restarted');
  } finally {
    await k?.cleanup();
    fs.rmSync(base, { recursive: true, force: true });
  }
});
