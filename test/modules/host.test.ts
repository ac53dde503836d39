/**
 * TypeScript/JavaScript modules run in a separate module host process: module code that kills,
 * aborts or exits that process, or closes its descriptors, takes down only the host. The daemon keeps
 * answering everyone, the calls that were running fail with MODULE_CRASHED, and the modules come back
 * from their last good versions in a fresh host; a crash loop is bounded; the host never outlives
 * the daemon.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { DaemonClient } from '../../src/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { startKept } from '../helpers/kept.js';
import { waitFor } from '../helpers/wait.js';
import { daemonError, writeAtomic, writeInPlace } from './util.js';

/** Each way module code can end its process, with a module of its own (crash loops are per version). */
const KILLERS: Record<string, string> = {
  sigterm: 'process.kill(process.pid, "SIGTERM")',
  sigkill: 'process.kill(process.pid, "SIGKILL")',
  closefds: 'for (let fd = 3; fd < 300; fd++) { try { fs.closeSync(fd); } catch {} }',
  // process.abort() itself throws in a worker (ERR_WORKER_UNSUPPORTED_OPERATION: a FUNCTION_ERROR);
  // the signals are what an abort or a native crash deliver.
  abort: 'process.kill(process.pid, "SIGABRT")',
  segv: 'process.kill(process.pid, "SIGSEGV")',
  exit: 'process.exit(7)',
};

function killerModule(body: string, tag = 'good'): string {
  return [
    'import fs from "node:fs";',
    'let calls = 0;',
    'export function count(): number { return ++calls; }',
    `export function version(): string { return ${JSON.stringify(tag)}; }`,
    `export async function die(): Promise<string> { ${body}; await new Promise((r) => setTimeout(r, 5000)); return "survived"; }`,
    '',
  ].join('\n');
}

const BYSTANDER = [
  'let calls = 0;',
  'export function count(): number { return ++calls; }',
  'export async function nap(ms: number): Promise<string> { await new Promise((r) => setTimeout(r, ms)); return "rested"; }',
  '',
].join('\n');

function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

/** Pings from its own client every 20 ms until stopped; reports the longest gap and any failure. */
function pingLoop(c: DaemonClient): { stop: () => Promise<{ maxGapMs: number; failures: string[]; pings: number }> } {
  let running = true;
  let maxGapMs = 0;
  let pings = 0;
  const failures: string[] = [];
  const done = (async () => {
    let last = performance.now();
    while (running) {
      try {
        await c.ping();
        pings++;
      } catch (err) {
        failures.push((err as Error).message);
        return;
      }
      const now = performance.now();
      maxGapMs = Math.max(maxGapMs, now - last);
      last = now;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return { maxGapMs, failures, pings };
    },
  };
}

let d: TestDaemon;
let c: DaemonClient;
before(async () => {
  d = await startTestDaemon();
  c = await d.client();
  writeInPlace(d.modulesDir, 'bystander.ts', BYSTANDER);
  await c.loadModule('bystander');
});
after(async () => {
  await d.stop();
});

for (const [kind, body] of Object.entries(KILLERS)) {
  test(`module code that runs \`${body}\`: the daemon keeps serving, the call fails MODULE_CRASHED, the module answers again from its last good version`, async () => {
    const name = `killer_${kind}`;
    writeInPlace(d.modulesDir, `${name}.ts`, killerModule(body));
    await c.loadModule(name);
    assert.equal(await c.callFunction(name, 'count'), 1);
    assert.ok((await c.callFunction<number>('bystander', 'count')) >= 1);
    // A broken save: the restart must come from the last good snapshot, not from the file on disk.
    writeAtomic(d.modulesDir, `${name}.ts`, 'export function version( { return "broken"; }\n');
    await waitFor(async () => (await c.listModules()).modules.find((m) => m.module === name)?.last_error, { what: 'the broken save rejected' });
    const hostBefore = (await c.ping()).module_host;
    assert.ok(hostBefore, 'a module host runs while a JavaScript module is loaded');
    assert.notEqual(hostBefore.pid, d.proc.pid, 'the host is not the daemon');

    const watcher = await d.client();
    const loop = pingLoop(watcher);
    const napping = kind === 'exit' ? undefined : daemonError(c.callFunction('bystander', 'nap', [10_000]));
    if (napping) await waitFor(async () => (await c.listModules()).modules.find((m) => m.module === 'bystander')?.calls_in_flight === 1, { what: 'nap running' });
    const e = await daemonError(c.callFunction(name, 'die', [], { timeoutS: 20 }));
    assert.equal(e.code, 'MODULE_CRASHED', e.message);
    if (napping) {
      // The bystander shared the host: its call in flight fails too (docs/modules.md says so).
      const b = await napping;
      assert.equal(b.code, 'MODULE_CRASHED');
      assert.match(b.message, /module host process/);
    }
    // The daemon answered all along, and it is still the same daemon.
    assert.equal((await c.ping()).pid, d.proc.pid);
    assert.equal(await c.callFunction(name, 'version'), 'good');
    assert.equal(await c.callFunction(name, 'count'), 1, 'restarted: fresh state');
    assert.equal(await c.callFunction('bystander', 'nap', [1]), 'rested');
    const { maxGapMs, failures, pings } = await loop.stop();
    assert.deepEqual(failures, []);
    assert.ok(pings > 0);
    assert.ok(maxGapMs < 3_000, `ping paused ${maxGapMs.toFixed(0)} ms`);
    if (kind !== 'exit') {
      const hostAfter = (await c.ping()).module_host;
      assert.ok(hostAfter && hostAfter.pid !== hostBefore.pid, 'a fresh host');
      await waitFor(() => !alive(hostBefore.pid), { what: 'the old host gone' });
    }
    watcher.close();
  });
}

test('a crash loop is bounded: after 3 host deaths the version is not restarted, says so, and a fixed save runs again', async () => {
  writeInPlace(d.modulesDir, 'looper.ts', killerModule(KILLERS['sigkill']!));
  await c.loadModule('looper');
  for (let i = 0; i < 3; i++) {
    const e = await daemonError(c.callFunction('looper', 'die', [], { timeoutS: 20 }));
    assert.equal(e.code, 'MODULE_CRASHED', e.message);
  }
  const started = Date.now();
  const e = await daemonError(c.callFunction('looper', 'count'));
  assert.equal(e.code, 'MODULE_CRASHED');
  assert.match(e.message, /crash loop/);
  assert.ok(Date.now() - started < 5_000, 'refused at once, not after another restart');
  const entry = (await c.listModules()).modules.find((m) => m.module === 'looper');
  assert.match(entry?.last_error ?? '', /crash loop/);
  // Other modules are unaffected.
  assert.ok((await c.callFunction<number>('bystander', 'count')) >= 1);
  writeAtomic(d.modulesDir, 'looper.ts', killerModule('', 'fixed'));
  await waitFor(async () => (await c.callFunction('looper', 'version').catch(() => undefined)) === 'fixed', { what: 'the fixed save serving' });
});

test('no module host survives shutdown', async () => {
  const d2 = await startTestDaemon();
  try {
    const c2 = await d2.client();
    assert.equal((await c2.ping()).module_host, null, 'no host before a JavaScript module loads');
    writeInPlace(d2.modulesDir, 'm.ts', BYSTANDER);
    await c2.loadModule('m');
    const host = (await c2.ping()).module_host;
    assert.ok(host && alive(host.pid));
    const listed = (await c2.listModules()).module_host;
    assert.equal(listed?.pid, host.pid);
    assert.ok(listed.rss > 0);
    await d2.stop();
    await waitFor(() => !alive(host.pid), { what: 'the host gone after shutdown', timeoutMs: 10_000 });
  } finally {
    await d2.stop();
  }
});

test('the module host dies with the daemon when the daemon is SIGKILLed, even while a module spins', async () => {
  const d2 = await startTestDaemon();
  try {
    const c2 = await d2.client();
    writeInPlace(d2.modulesDir, 'spinner.ts', 'export function spin(): never { for (;;) {} }\n');
    await c2.loadModule('spinner');
    const host = (await c2.ping()).module_host;
    assert.ok(host && alive(host.pid));
    void c2.callFunction('spinner', 'spin', [], { timeoutS: 60 }).catch(() => undefined);
    await waitFor(async () => (await c2.listModules()).modules[0]?.calls_in_flight === 1, { what: 'spin running' });
    await d2.kill('SIGKILL');
    await waitFor(() => !alive(host.pid), { what: 'the host gone after the daemon was killed', timeoutMs: 10_000 });
  } finally {
    await d2.stop();
  }
});

/** Module host processes of the daemon on `socket` (their environment names it), wherever they run. */
function hostsOf(socket: string): number[] {
  const pids: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (!fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').includes('host-entry')) continue;
      if (!fs.readFileSync(`/proc/${name}/environ`, 'utf8').split('\0').includes(`CLAUDE_DAEMON_SOCKET=${socket}`)) continue;
      if (alive(Number(name))) pids.push(Number(name));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return pids;
}

test('a daemon restarted by its keeper starts a fresh module host: the old one died with its daemon, the new one answers, none survives shutdown', async () => {
  const k = await startKept();
  try {
    const mods = path.join(k.dir, 'mods');
    fs.mkdirSync(mods, { recursive: true });
    writeInPlace(mods, 'kept.ts', BYSTANDER);
    const c = await k.client();
    assert.equal(await c.callFunction('kept', 'count'), 1);
    assert.equal(await c.callFunction('kept', 'count'), 2);
    const first = await c.ping();
    const oldHost = first.module_host;
    assert.ok(oldHost && alive(oldHost.pid));
    assert.deepEqual(hostsOf(k.socket), [oldHost.pid]);
    c.close();

    process.kill(first.pid, 'SIGKILL');
    // Never an orphan: the host goes with its daemon (its pipe closed), it is not adopted by init.
    await waitFor(() => !alive(oldHost.pid), { what: 'the old module host gone with its daemon', timeoutMs: 10_000 });
    const second = await k.waitNewDaemon(first.pid);
    assert.equal(second.keeper?.restarts, 1);
    assert.equal(second.module_host, null, 'a fresh daemon has no host until a JavaScript module is used');

    const c2 = await k.client();
    // A fresh host, with the module loaded again from its file: its state starts over.
    assert.equal(await c2.callFunction('kept', 'count'), 1);
    const newHost = (await c2.ping()).module_host;
    assert.ok(newHost && alive(newHost.pid));
    assert.notEqual(newHost.pid, oldHost.pid);
    assert.deepEqual(hostsOf(k.socket), [newHost.pid]);
    assert.equal(await c2.callFunction('kept', 'nap', [10]), 'rested');
    c2.close();

    await k.cleanup(); // shutdown; waits for daemon and keeper to exit
    await waitFor(() => hostsOf(k.socket).length === 0, { what: 'no module host after shutdown', timeoutMs: 10_000 });
    assert.ok(!alive(newHost.pid));
  } finally {
    await k.cleanup();
  }
});
