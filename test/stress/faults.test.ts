/**
 * Resource faults, the heavy cases: many processes ending on a full disk with the daemon SIGKILLed
 * and restarted before space comes back; re-adopted processes ending while the daemon has no
 * descriptor left. Nothing acknowledged is lost, no refused command runs, and everything is
 * consistent once the fault passes.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { DaemonError } from '../../src/index.js';
import { startTestDaemon } from '../helpers/daemon.js';
import { mountTmpfs, procsWithArg } from '../helpers/tmpfs.js';
import { waitFor } from '../helpers/wait.js';
import { fdCount, waitOutput } from '../processes/util.js';

const N = 20;

/** Live wrapper processes whose state directory is under `home`. */
function wrappersUnder(home: string): number {
  let n = 0;
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.endsWith('claude-daemon-wrap') && argv[1]?.startsWith(home)) n++;
    } catch {
      // gone
    }
  }
  return n;
}

test('disk full: 20 processes end, 20 spawns are refused, the daemon is SIGKILLed and restarted while full; every exit code survives', async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cd-stress-full-'));
  const disk = mountTmpfs(path.join(tmp, 'home'), '2m');
  if (disk === undefined) {
    fs.rmSync(tmp, { recursive: true, force: true });
    return t.skip('cannot mount a tmpfs here (needs root)');
  }
  const mark = `cd-stress-full-${process.pid}`;
  const d = await startTestDaemon({ dir: tmp });
  try {
    let c = await d.client();
    const go = path.join(tmp, 'go');
    for (let i = 0; i < N; i++) {
      await c.spawnProcess({ process_id: `p${i}`, cmd: ['sh', '-c', `echo ready; while [ ! -e ${go} ]; do sleep 0.05; done; exit ${i + 1}`], env: { CD_MARK: mark } });
    }
    for (let i = 0; i < N; i++) await waitOutput(c, `p${i}`);
    disk.fill();
    const refused = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        c.spawnProcess({ process_id: `r${i}`, cmd: ['sh', '-c', 'sleep 1000'], env: { CD_MARK: `${mark}-refused` } }).then(
          () => 'resolved',
          (err: unknown) => (err instanceof DaemonError ? err.code : String(err)),
        ),
      ),
    );
    assert.deepEqual(new Set(refused), new Set(['STORAGE_FULL']));
    await waitFor(() => procsWithArg(`${mark}-refused`).length === 0, { what: 'refused commands to be gone' });
    fs.writeFileSync(go, '');
    for (let i = 0; i < N; i++) assert.equal((await c.waitProcess({ process_id: `p${i}`, timeout_s: 30 })).exit_code, i + 1);
    // The daemon dies before it could write any of that; the next one starts while still full.
    await d.kill('SIGKILL');
    await d.restart();
    c = await d.client();
    disk.free();
    for (let i = 0; i < N; i++) {
      const r = await c.waitProcess({ process_id: `p${i}`, timeout_s: 30 });
      assert.equal(r.status, 'exited', JSON.stringify(r));
      assert.equal(r.exit_code, i + 1);
    }
    const ids = new Set((await c.listProcesses()).processes.map((p) => p.process_id));
    for (let i = 0; i < N; i++) assert.ok(!ids.has(`r${i}`), `refused r${i} is unknown`);
    await d.stop();
  } finally {
    await d.stop();
    for (const pid of [...procsWithArg(mark), ...procsWithArg(`${mark}-refused`)]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    disk.unmount();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('re-adopted processes that end while the daemon has no descriptor left keep their exit codes', async () => {
  const opts = { ulimit: '-n 64', env: { CLAUDE_DAEMON_FD_RESERVE: '0' } };
  const d = await startTestDaemon(opts);
  const go = path.join(d.dir, 'go');
  const conns: net.Socket[] = [];
  try {
    let c = await d.client();
    for (let i = 0; i < 6; i++) await c.spawnProcess({ process_id: `a${i}`, cmd: ['sh', '-c', `echo ready; while [ ! -e ${go} ]; do sleep 0.05; done; exit ${i + 10}`] });
    for (let i = 0; i < 6; i++) await waitOutput(c, `a${i}`);
    await d.kill('SIGKILL');
    await d.restart();
    c = await d.client();
    for (let i = 0; i < 100; i++) conns.push(net.createConnection(d.socket).on('error', () => undefined));
    await waitFor(() => fdCount(d.proc.pid!) >= 63, { what: 'the daemon to run out of descriptors' });
    fs.writeFileSync(go, '');
    // Their wrappers are not our children now: the daemon polls /proc, which it cannot open. Once
    // they are gone, a few polling rounds pass (100 ms each) and none may be taken for lost.
    await waitFor(() => wrappersUnder(d.home) === 0, { what: 'the wrappers to exit', timeoutMs: 20_000 });
    for (const until = Date.now() + 1000; Date.now() < until; ) {
      for (let i = 0; i < 6; i++) assert.notEqual((await c.processInfo(`a${i}`)).status, 'lost');
    }
    for (const s of conns.splice(0)) s.destroy();
    for (let i = 0; i < 6; i++) {
      const r = await c.waitProcess({ process_id: `a${i}`, timeout_s: 30 });
      assert.equal(r.status, 'exited', JSON.stringify(r));
      assert.equal(r.exit_code, i + 10);
    }
  } finally {
    for (const s of conns) s.destroy();
    fs.writeFileSync(go, '');
    await waitFor(() => fdCount(d.proc.pid!) < 40, { what: 'descriptors back', timeoutMs: 15_000 }).catch(() => undefined);
    await d.stop({ killProcesses: true });
    fs.rmSync(d.dir, { recursive: true, force: true });
  }
});
