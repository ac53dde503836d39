/**
 * The launcher: the daemon never forks for a spawn; one small process (the wrapper in `--server`
 * mode) forks every wrapper. Losing it loses no process: what it launched is watched through /proc
 * like a re-adopted process, and the next spawn starts a new launcher.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import { DaemonError, type DaemonClient } from '../../src/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { listProcs } from '../helpers/proc.js';
import { waitFor } from '../helpers/wait.js';
import { fx, waitOutput } from './util.js';

let d: TestDaemon;
let c: DaemonClient;
before(async () => {
  d = await startTestDaemon();
  c = await d.client();
});
after(async () => {
  await d.stop();
});

const ppidOf = (pid: number): number | undefined => listProcs().find((p) => p.pid === pid)?.ppid;
const argvOf = (pid: number): string[] => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((s) => s !== '');

/** The command's wrapper and the wrapper's parent, checked to be what they claim. */
function lineage(cmdPid: number): { wrapper: number; launcher: number } {
  const wrapper = ppidOf(cmdPid)!;
  const launcher = ppidOf(wrapper)!;
  assert.ok(argvOf(wrapper)[0]!.endsWith('claude-daemon-wrap'), `parent of the command is the wrapper: ${argvOf(wrapper).join(' ')}`);
  assert.deepEqual(argvOf(launcher).slice(1), ['--server'], 'parent of the wrapper is the launcher');
  return { wrapper, launcher };
}

test('the launcher, not the daemon, forks every wrapper; one launcher serves all spawns', async () => {
  const a = await c.spawnProcess({ cmd: [fx('sleeper.sh')], process_id: 'lin-a' });
  const b = await c.spawnProcess({ cmd: [fx('sleeper.sh')], process_id: 'lin-b' });
  await waitOutput(c, 'lin-a');
  await waitOutput(c, 'lin-b');
  const la = lineage(a.pid!);
  const lb = lineage(b.pid!);
  assert.equal(la.launcher, lb.launcher);
  assert.equal(ppidOf(la.launcher), d.proc.pid, 'the launcher is the daemon’s child');
  // The wrapper's own argv is the one restore reads after a daemon crash.
  const argv = argvOf(la.wrapper);
  assert.deepEqual(argv.slice(argv.indexOf('--') + 1), [fx('sleeper.sh')]);
  await c.killProcess({ process_id: 'lin-a' });
  await c.killProcess({ process_id: 'lin-b' });
});

test('a launcher killed under running processes loses none of them, and the next spawn gets a new one', async () => {
  const r = await c.spawnProcess({ cmd: [fx('sleeper.sh'), '1000', '7'], process_id: 'orphaned' });
  await waitOutput(c, 'orphaned');
  const { launcher } = lineage(r.pid!);
  process.kill(launcher, 'SIGKILL');
  await waitFor(() => ppidOf(launcher) === undefined, { what: 'the launcher to be gone' });

  // Still tracked: killed through the daemon, and its end recorded although nobody reaps for us.
  const killed = await c.killProcess({ process_id: 'orphaned', signal: 'SIGTERM' });
  assert.equal(killed.status, 'killed');
  assert.equal(killed.signal, 'SIGTERM');

  // A running one that ends by itself after the launcher died: its exit code comes through too.
  const s = await c.spawnProcess({ cmd: [fx('sleeper.sh'), '0.5', '5'], process_id: 'after' });
  const second = lineage(s.pid!).launcher;
  assert.notEqual(second, launcher);
  process.kill(second, 'SIGKILL');
  const w = await c.waitProcess({ process_id: 'after', timeout_s: 20 });
  assert.equal(w.status, 'exited');
  assert.equal(w.exit_code, 5);
  const out = await c.readOutput({ process_id: 'after' });
  assert.equal(out.data, 'ready\nslept\n');
});

test('an argument or environment entry holding a NUL byte is refused with SPAWN_FAILED and a failed record', async () => {
  const cases: { id: string; cmd: string[]; env?: Record<string, string> }[] = [
    { id: 'nul-arg', cmd: ['echo', 'a\0b'] },
    { id: 'nul-env', cmd: ['true'], env: { X: 'a\0b' } },
  ];
  for (const { id, ...spec } of cases) {
    const err = await c.spawnProcess({ ...spec, process_id: id }).then(
      () => assert.fail('expected SPAWN_FAILED'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof DaemonError && err.code === 'SPAWN_FAILED', String(err));
    assert.match(err.message, /NUL byte/);
    assert.equal((await c.processInfo(id)).status, 'failed');
  }
  // The launcher is unharmed.
  const ok = await c.spawnProcess({ cmd: ['true'] });
  assert.equal((await c.waitProcess({ process_id: ok.process_id })).exit_code, 0);
});

test('a launcher killed while spawns are in flight fails none of them, and nothing runs untracked', async () => {
  const marker = `sleep 41.${process.pid}`; // unique to this run: strays of another run never count
  const sleeping = (): number[] =>
    listProcs()
      .filter((p) => p.state !== 'Z')
      .filter((p) => {
        try {
          return fs.readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim() === marker;
        } catch {
          return false;
        }
      })
      .map((p) => p.pid);
  const first = await c.spawnProcess({ cmd: ['sh', '-c', `exec ${marker}`], process_id: 'inflight-0' });
  const { launcher } = lineage(first.pid!);
  // The launcher dies once a few of the 30 are acknowledged: the rest are then at every stage
  // (queued in its pipe, forked, wrapper running, reported but not yet read).
  let acked = 0;
  const spawns = Array.from({ length: 30 }, (_, i) =>
    c.spawnProcess({ cmd: ['sh', '-c', `exec ${marker}`], process_id: `inflight-${i + 1}` }).then(
      (r) => {
        if (++acked === 3) process.kill(launcher, 'SIGKILL');
        return { ok: true as const, pid: r.pid };
      },
      (e: unknown) => ({ ok: false as const, code: e instanceof DaemonError ? e.code : String(e) }),
    ),
  );
  const results = await Promise.all(spawns);
  // None fails: a request the launcher never forked is sent to a new one; a forked wrapper still
  // reports through the pipe it holds.
  assert.deepEqual(results.filter((r) => !r.ok), []);
  const tracked = [first.pid!, ...results.flatMap((r) => (r.ok ? [r.pid!] : []))];
  // Every command running is one the daemon acknowledged (give the last execs a moment).
  await waitFor(() => sleeping().length === tracked.length, { what: `${tracked.length} sleepers (have ${sleeping().length})` });
  assert.deepEqual(sleeping().sort(), [...tracked].sort());
  for (let i = 0; i <= 30; i++) {
    const info = await c.processInfo(`inflight-${i}`);
    if (info.status === 'running') await c.killProcess({ process_id: info.process_id, signal: 'SIGKILL' });
  }
  await waitFor(() => sleeping().length === 0, { what: 'every sleeper to end' });
});

test('a command line and environment of 600 KB reach the child intact (frames span many pipe reads)', async () => {
  const args = Array.from({ length: 100 }, (_, i) => `${i}:` + 'a'.repeat(4000) + 'é');
  const env: Record<string, string> = { ECHO_VARS: 'BIG_0 BIG_1' };
  for (let i = 0; i < 2; i++) env[`BIG_${i}`] = `${i}=` + 'z'.repeat(100_000);
  const r = await c.spawnProcess({ cmd: [fx('echo-argv.sh'), ...args], env, process_id: 'big-argv' });
  const w = await c.waitProcess({ process_id: r.process_id, timeout_s: 30 });
  assert.equal(w.exit_code, 0);
  const expected = [...args, env['BIG_0']!, env['BIG_1']!].map((s) => `${s}\0`).join('');
  let got = '';
  for (let offset = 0; ; ) {
    const out = await c.readOutput({ process_id: 'big-argv', offset, max_bytes: 1 << 20 });
    got += out.data;
    offset = out.next_offset;
    if (out.eof) break;
  }
  assert.equal(got.length, expected.length);
  assert.ok(got === expected, 'every byte as sent');
});
