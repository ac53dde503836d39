/**
 * The daemon's own output: a foreground daemon whose stderr goes away (terminal closed, `| head`)
 * keeps serving and keeps logging to its file only; the log file is size-capped and rotated
 * (daemon.log, daemon.log.1, daemon.log.2). Once the stderr reader vanished, the daemon used to
 * log its own EPIPE in a loop: pings and module calls hung and daemon.log grew 6-8 MB/s.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { LOG_FILES_ENV, LOG_MAX_BYTES_ENV } from '../../src/daemon/config.js';
import { pingOnce, startTestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

const NOISY = 'export function shout(n, tag = "") { for (let i = 0; i < n; i++) console.log(`noise ${tag}${i} ` + "x".repeat(40)); return n; }\n';

/** Resolves with the promise's value, or fails once `ms` have passed. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

const sizeOf = (f: string): number => (fs.existsSync(f) ? fs.statSync(f).size : 0);

test('a daemon whose stderr reader is gone keeps answering ping and module calls; its log grows only by what happens', async () => {
  const d = await startTestDaemon();
  try {
    fs.writeFileSync(path.join(d.modulesDir, 'noisy.mjs'), NOISY);
    const c = await d.client();
    assert.equal(await c.callFunction('noisy', 'shout', [3]), 3);
    await waitFor(() => d.log().includes('noise 2'), { what: 'module output on stderr' });
    d.proc.stderr!.destroy(); // The terminal is closed: the daemon's next write to stderr fails (EPIPE).
    const logFile = path.join(d.home, 'daemon.log');
    assert.equal(await within(c.callFunction('noisy', 'shout', [50]), 10_000, 'a module call after stderr closed'), 50);
    await waitFor(() => fs.readFileSync(logFile, 'utf8').includes('noise 49'), { what: 'module output in daemon.log' });
    const before = sizeOf(logFile);
    for (let i = 0; i < 30; i++) assert.ok(await pingOnce(d.socket), `ping ${i} after stderr closed`);
    for (let i = 0; i < 5; i++) assert.equal(await within(c.callFunction('noisy', 'shout', [10]), 10_000, `module call ${i}`), 10);
    const grown = sizeOf(logFile) - before;
    // 50 lines of module output is ~3 KB; the EPIPE loop wrote megabytes in this time.
    assert.ok(grown < 64 * 1024, `daemon.log grew ${grown} bytes while idle but for 30 pings and 50 lines of module output`);
    assert.match(fs.readFileSync(logFile, 'utf8'), /stderr.*(EPIPE|closed|gone)/i, 'the log says why stderr logging stopped');
    assert.equal(d.proc.exitCode, null, 'the daemon still runs');
  } finally {
    await d.stop();
    fs.rmSync(d.dir, { recursive: true, force: true });
  }
});

test('the log file is capped and rotated: daemon.log, daemon.log.1, daemon.log.2, each under the cap, the newest lines kept', async () => {
  const cap = 16 * 1024;
  const d = await startTestDaemon({ env: { [LOG_MAX_BYTES_ENV]: String(cap), [LOG_FILES_ENV]: '3' } });
  try {
    fs.writeFileSync(path.join(d.modulesDir, 'noisy.mjs'), NOISY);
    const c = await d.client();
    for (let i = 0; i < 10; i++) await c.callFunction('noisy', 'shout', [200, `c${i}-`]); // ~130 KB of log lines.
    const logFile = path.join(d.home, 'daemon.log');
    await waitFor(() => fs.readFileSync(logFile, 'utf8').includes('noise c9-199'), { what: 'the last call logged' });
    const files = fs.readdirSync(d.home).filter((f) => f.startsWith('daemon.log')).sort();
    assert.deepEqual(files, ['daemon.log', 'daemon.log.1', 'daemon.log.2']);
    for (const f of files) {
      const st = fs.statSync(path.join(d.home, f));
      assert.ok(st.size <= cap, `${f} is ${st.size} bytes, over the ${cap} cap`);
      assert.equal(st.mode & 0o777, 0o600, `${f} is owner-only`);
    }
    // Whole lines only, and the oldest went first.
    const all = files.reverse().map((f) => fs.readFileSync(path.join(d.home, f), 'utf8')).join('');
    assert.ok(all.endsWith('\n'));
    assert.doesNotMatch(all, /listening on/, 'the start-up line has rotated out');
    assert.ok(all.split('\n').every((l) => l === '' || /^\d{4}-\d\d-\d\dT/.test(l)), 'every line is whole');
  } finally {
    await d.stop();
    fs.rmSync(d.dir, { recursive: true, force: true });
  }
});
