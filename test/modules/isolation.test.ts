import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { DaemonClient } from '../../src/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';
import { daemonError, writeInPlace } from './util.js';

let d: TestDaemon;
let c: DaemonClient;
before(async () => {
  // A small heap cap keeps the out-of-memory test quick.
  d = await startTestDaemon({ args: ['--module-memory-mb', '64'] });
  c = await d.client();
  writeInPlace(
    d.modulesDir,
    'wild.ts',
    [
      'let calls = 0;',
      'export function count(): number { return ++calls; }',
      'export function spin(): never { for (;;) {} }',
      'export function hog(): number { const keep: number[][] = []; for (;;) keep.push(new Array(10_000).fill(1)); }',
      'export function quit(): void { process.exit(3); }',
      'export function strayTimer(): string { setTimeout(() => { throw new Error("stray timer"); }, 5); return "armed"; }',
      'export async function nap(ms: number): Promise<string> { await new Promise((r) => setTimeout(r, ms)); return "rested"; }',
      'export function leaveTimers(): string { setInterval(() => {}, 1000); return "left"; }',
      '',
    ].join('\n'),
  );
  writeInPlace(d.modulesDir, 'bystander.ts', 'export function ok(): string { return "fine"; }\n');
  await c.loadModule('wild');
  await c.loadModule('bystander');
});
after(async () => {
  await d.stop();
});

async function restarts(): Promise<number> {
  return (await c.listModules()).modules.find((m) => m.module === 'wild')!.restarts;
}

test('a runaway loop is stopped by timeout_s with CALL_TIMEOUT, other modules keep serving meanwhile, and the module is back in service', async () => {
  const before = await restarts();
  assert.ok((await c.callFunction<number>('wild', 'count')) >= 1);
  const started = Date.now();
  const spinning = daemonError(c.callFunction('wild', 'spin', [], { timeoutS: 1.5 }));
  // While wild spins, the daemon and another module answer.
  assert.equal(await c.callFunction('bystander', 'ok'), 'fine');
  assert.equal((await c.ping()).pong, true);
  const e = await spinning;
  assert.equal(e.code, 'CALL_TIMEOUT');
  assert.ok(Date.now() - started >= 1400, 'not before its deadline');
  assert.ok(Date.now() - started < 10_000, 'soon after its deadline');
  // Restarted from the last good version: fresh state, same version number.
  assert.equal(await c.callFunction('wild', 'count'), 1);
  assert.equal(await restarts(), before + 1);
});

test('a call in flight on a version that is killed fails with MODULE_CRASHED, not silence', async () => {
  const napping = daemonError(c.callFunction('wild', 'nap', [5000]));
  await waitFor(async () => (await c.listModules()).modules.find((m) => m.module === 'wild')?.calls_in_flight === 1, { what: 'nap running' });
  assert.equal((await daemonError(c.callFunction('wild', 'spin', [], { timeoutS: 0.3 }))).code, 'CALL_TIMEOUT');
  const e = await napping;
  assert.equal(e.code, 'MODULE_CRASHED');
  assert.match(e.message, /timed out/);
  assert.equal(await c.callFunction('wild', 'nap', [1]), 'rested');
});

test('heap exhaustion is contained: MODULE_CRASHED, the daemon and other modules unaffected, the module restarted', async () => {
  const before = await restarts();
  const e = await daemonError(c.callFunction('wild', 'hog', [], { timeoutS: 60 }));
  assert.equal(e.code, 'MODULE_CRASHED');
  assert.match(e.message, /out of memory/);
  assert.equal(await c.callFunction('bystander', 'ok'), 'fine');
  assert.equal(await c.callFunction('wild', 'count'), 1);
  assert.equal(await restarts(), before + 1);
});

test('a module calling process.exit ends only its own worker and is restarted', async () => {
  const e = await daemonError(c.callFunction('wild', 'quit'));
  assert.equal(e.code, 'MODULE_CRASHED');
  assert.match(e.message, /process\.exit\(3\)/);
  assert.equal((await c.ping()).pid, d.proc.pid);
  assert.equal(await c.callFunction('wild', 'count'), 1);
});

test('an uncaught error from a stray timer restarts the module; timers left running die with their version', async () => {
  assert.equal(await c.callFunction('wild', 'leaveTimers'), 'left');
  const before = await restarts();
  assert.equal(await c.callFunction('wild', 'strayTimer'), 'armed');
  await waitFor(async () => (await restarts()) === before + 1, { what: 'restart after the stray timer' });
  await waitFor(async () => /stray timer/.test(d.log()), { what: 'the stray error in the log' });
  assert.equal(await c.callFunction('wild', 'count'), 1);
  assert.equal(await c.callFunction('bystander', 'ok'), 'fine');
});
