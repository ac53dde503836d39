/**
 * Queue scaling benchmark: what a spawn and a `list` cost with 10,000 records queued, as a ratio to
 * the same with 10 queued, in the same run, against one daemon (the queued records sit in a paused
 * group, so they stay queued). Measured: a spawn that queues (into the paused group), a spawn that
 * starts at once (/bin/true in the default group), `list_processes {status: running}`, a page of 10 queued
 * (`{status: queued, limit: 10}`: as many records returned from both), a page of 100 of everything (`{limit: 100}`;
 * both hold over 100 records once the spawns that start have run) and a full
 * `list_processes` (O(records returned): 10,000 records vs 10, not held to the target); medians of interleaved rounds, so machine load hits both sizes alike.
 * Run: node scripts/build.mjs && node --import tsx bench/queue.bench.ts
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DaemonClient } from '../src/index.js';
import { startBenchDaemon, stopBenchDaemon, type BenchDaemon } from './daemon.js';

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'cd-bench-queue-'));
const BIG = Number(process.env['QUEUE_BENCH_N'] ?? 10_000);
const SMALL = 10;
const ROUNDS = 15;
const PER_ROUND = 40;

type Daemon = BenchDaemon;
/** A bench daemon under this run's temp dir. */
const startDaemon = (name: string): Promise<Daemon> => startBenchDaemon(TMP, name);
const stopDaemon = stopBenchDaemon;

/** Fills `group` (paused) with `n` queued records, 200 requests in flight. */
async function fill(c: DaemonClient, group: string, n: number): Promise<void> {
  await c.groupSet({ group, paused: true });
  let next = 0;
  await Promise.all(Array.from({ length: 200 }, async () => {
    while (next < n) {
      next++;
      await c.spawnProcess({ cmd: ['/bin/true'], group });
    }
  }));
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Mean ms of `k` sequential calls of `f`. */
async function timed(k: number, f: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < k; i++) await f();
  return (performance.now() - t) / k;
}

async function main(): Promise<void> {
  const small = await startDaemon('small');
  const big = await startDaemon('big');
  try {
    await fill(small.client, 'held', SMALL);
    const t0 = performance.now();
    await fill(big.client, 'held', BIG);
    console.log(`filled ${BIG} queued records in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const cases: Record<string, (c: DaemonClient) => Promise<unknown>> = {
      'ping (floor)': (c) => c.ping(),
      'spawn (queues)': (c) => c.spawnProcess({ cmd: ['/bin/true'], group: 'held' }),
      'spawn (starts)': (c) => c.spawnProcess({ cmd: ['/bin/true'] }),
      'list {status: running}': (c) => c.listProcesses({ status: 'running' }),
      'list {status: queued, limit 10}': (c) => c.listProcesses({ status: 'queued', limit: 10 }),
      'list {limit 100}': (c) => c.listProcesses({ limit: 100 }),
      'list (everything)': (c) => c.listProcesses(),
    };
    const res: Record<string, { s: number[]; b: number[] }> = {};
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, f] of Object.entries(cases)) {
        const k = name === 'list (everything)' ? 5 : PER_ROUND;
        res[name] ??= { s: [], b: [] };
        // Alternate which daemon goes first, so warm-up and load bursts favour neither.
        if (r % 2 === 0) {
          res[name].s.push(await timed(k, () => f(small.client)));
          res[name].b.push(await timed(k, () => f(big.client)));
        } else {
          res[name].b.push(await timed(k, () => f(big.client)));
          res[name].s.push(await timed(k, () => f(small.client)));
        }
      }
    }
    console.log(`per call, median of ${ROUNDS} rounds: ${SMALL} queued vs ${BIG} queued (ratio; target <= 1.2 for spawn and a filtered or paged list)`);
    for (const [name, { s, b }] of Object.entries(res)) {
      const ms = median(s);
      const mb = median(b);
      console.log(`  ${name.padEnd(34)} ${ms.toFixed(3)} ms  vs  ${mb.toFixed(3)} ms   ratio ${(mb / ms).toFixed(2)}`);
    }
  } finally {
    await Promise.all([stopDaemon(small), stopDaemon(big)]);
    fs.rmSync(TMP, { recursive: true, force: true });
  }
}

await main();
