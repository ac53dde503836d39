/**
 * What a call chain can hold: a module that calls itself through the client (directly or through
 * another module) without end is stopped by the cap on calls in flight per module, long before its
 * deadline, and the daemon's memory stays bounded (it grew from ~100 to ~400 MiB, not given back).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { MAX_ERROR_MESSAGE_CHARS } from '../../src/daemon/modules/reply-limits.js';
import { MAX_CALLS_IN_FLIGHT } from '../../src/daemon/modules/slot.js';
import type { DaemonClient } from '../../src/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';
import { daemonError, writeInPlace } from './util.js';

let d: TestDaemon;
let c: DaemonClient;
before(async () => {
  d = await startTestDaemon();
  c = await d.client();
});
after(async () => {
  await d.stop();
});

/** The daemon's resident set in MiB, from /proc. */
function daemonRssMib(): number {
  const status = fs.readFileSync(`/proc/${d.proc.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

const SELF_CALLER = `import { connect } from 'claude-daemon';
let served = 0;
export async function recurse(n: number): Promise<number> {
  served++;
  const c = await connect();
  try {
    return await c.callFunction('selfy', 'recurse', [n + 1], { timeoutS: 600 });
  } finally {
    c.close();
  }
}
export function count() { return served; }
`;

test('a module calling itself through the client without end is stopped by the cap on calls in flight (MODULE_BUSY), fast, with the daemon\'s RSS bounded', async () => {
  writeInPlace(d.modulesDir, 'selfy.ts', SELF_CALLER);
  await c.loadModule('selfy');
  await c.callFunction('selfy', 'count');
  const base = daemonRssMib();
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, daemonRssMib())), 100);
  try {
    const t0 = Date.now();
    const err = await daemonError(c.callFunction('selfy', 'recurse', [0], { timeoutS: 20 }));
    // The innermost call was refused; each level above rethrew what it got.
    assert.equal(err.code, 'FUNCTION_ERROR', err.message.slice(0, 500));
    assert.match(err.message, /^selfy\.recurse threw: DaemonError: selfy\.recurse threw/);
    // Each level's message nests the one below: clipped, so the chain moves kilobytes, not ~100 MB.
    assert.ok(err.message.length <= MAX_ERROR_MESSAGE_CHARS + 200, `message of ${err.message.length} characters`);
    assert.match(d.log(), /\[modules:selfy\] refusing calls: 1000 calls in flight/);
    assert.ok(Date.now() - t0 < 18_000, `the chain unwound after ${Date.now() - t0} ms, not long before its deadline`);
    // Nothing was restarted, and nothing keeps running: the count is the chain's length, then stays.
    await waitFor(async () => (await c.listModules()).modules.find((m) => m.module === 'selfy')?.calls_in_flight === 0, { what: 'the chain to unwind', timeoutMs: 20_000 });
    const entry = (await c.listModules()).modules.find((m) => m.module === 'selfy')!;
    assert.equal(entry.restarts, 0);
    const served = await c.callFunction<number>('selfy', 'count');
    assert.ok(served >= MAX_CALLS_IN_FLIGHT - 1 && served <= MAX_CALLS_IN_FLIGHT + 1, `served ${served} levels`);
    assert.equal(await c.callFunction<number>('selfy', 'count'), served, 'no call keeps recursing after the chain unwound');
  } finally {
    clearInterval(sampler);
  }
  // Generous: a chain of the cap's length costs the daemon a few MiB; unbounded, 20 s of it cost ~170 MiB.
  assert.ok(peak - base < 100, `daemon RSS went from ${base.toFixed(1)} to ${peak.toFixed(1)} MiB during the chain`);
});

test('the cap itself: the call over 1,000 in flight on one module answers MODULE_BUSY at once, other modules answer; once they finish, calls run again', async () => {
  const gateFile = path.join(d.dir, 'open-the-gate');
  writeInPlace(d.modulesDir, 'holder.ts', `import fs from 'node:fs';
import path from 'node:path';
const gate = new Promise<void>((resolve) => {
  const t = setInterval(() => { if (fs.existsSync(${JSON.stringify(gateFile)})) { clearInterval(t); resolve(); } }, 50);
});
export async function hold(i: number) { await gate; return i; }
export function quick() { return 'ok'; }
`);
  await c.loadModule('holder');
  // From 40 connections (a client sends at most 32 requests at a time), as many clients would.
  const clients = await Promise.all(Array.from({ length: 40 }, () => d.client()));
  const held = Array.from({ length: MAX_CALLS_IN_FLIGHT }, (_, i) => clients[i % 40]!.callFunction<number>('holder', 'hold', [i], { timeoutS: 120 }));
  await waitFor(async () => (await c.listModules()).modules.find((m) => m.module === 'holder')?.calls_in_flight === MAX_CALLS_IN_FLIGHT, { what: '1,000 calls in flight', timeoutMs: 60_000 });
  const busy = await daemonError(c.callFunction('holder', 'quick'));
  assert.equal(busy.code, 'MODULE_BUSY');
  assert.match(busy.message, /module 'holder' already has 1000 calls in flight.*retry once some finish/);
  assert.equal(await c.callFunction<number>('selfy', 'count') > 0, true, 'another module answers meanwhile');
  fs.writeFileSync(gateFile, '');
  const values = await Promise.all(held);
  assert.deepEqual(values, Array.from({ length: MAX_CALLS_IN_FLIGHT }, (_, i) => i));
  assert.equal(await c.callFunction('holder', 'quick'), 'ok');
});
