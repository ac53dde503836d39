/**
 * Process supervision benchmark: spawn rate through the daemon against a floor measured in the same
 * run (raw child_process.spawn of /bin/true with a fresh stdout/stderr file pair, waited for),
 * interleaved block by block so machine load hits both alike; then 100 spawns to running, kill of
 * 100, list latency, and the daemon's RSS. Run: node scripts/build.mjs && node --import tsx bench/processes.bench.ts
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DaemonClient } from '../src/index.js';
import { startBenchDaemon, stopBenchDaemon, type BenchDaemon } from './daemon.js';

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'cd-bench-proc-'));
const BLOCK = 250;
const TOTAL = 1000;

type Daemon = BenchDaemon;
/** A bench daemon under this run's temp dir. */
const startDaemon = (name: string): Promise<Daemon> => startBenchDaemon(TMP, name);
const stopDaemon = stopBenchDaemon;

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

let floorSeq = 0;
/** The floor unit: open a fresh file pair, spawn /bin/true on it, wait for its exit. */
function rawSpawn(cmd = '/bin/true', args: string[] = []): { child: ChildProcess; exited: Promise<void> } {
  const dir = path.join(TMP, 'floor');
  const n = floorSeq++;
  const out = fs.openSync(path.join(dir, `${n}.out`), 'w', 0o600);
  const err = fs.openSync(path.join(dir, `${n}.err`), 'w', 0o600);
  const child = spawn(cmd, args, { stdio: ['ignore', out, err] });
  fs.closeSync(out);
  fs.closeSync(err);
  return { child, exited: new Promise((r) => child.once('exit', () => r())) };
}

async function floorSequential(n: number): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < n; i++) await rawSpawn().exited;
  return performance.now() - t;
}

async function floorParallel(n: number, lanes: number): Promise<number> {
  const t = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: lanes }, async () => {
    while (next++ < n) await rawSpawn().exited;
  }));
  return performance.now() - t;
}

async function daemonSequential(c: DaemonClient, n: number): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < n; i++) await c.spawnProcess({ cmd: ['/bin/true'] });
  return performance.now() - t;
}

async function daemonParallel(c: DaemonClient, n: number, lanes: number): Promise<number> {
  const t = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: lanes }, async () => {
    while (next++ < n) await c.spawnProcess({ cmd: ['/bin/true'] });
  }));
  return performance.now() - t;
}

async function allEnded(c: DaemonClient): Promise<void> {
  while ((await c.listProcesses({ status: 'running' })).processes.length > 0) await new Promise((r) => setTimeout(r, 20));
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))]!;
}

const f = (x: number, d = 0): string => x.toFixed(d);

async function main(): Promise<void> {
  fs.mkdirSync(path.join(TMP, 'floor'));
  // `--only=list` runs just the list-latency and RSS part.
  if (!process.argv.includes('--only=list')) await rates();
  await listAndRss();
  fs.rmSync(TMP, { recursive: true, force: true });
}

async function rates(): Promise<void> {
  const a = await startDaemon('rate');
  // Warm up both paths.
  await floorSequential(20);
  await daemonSequential(a.client, 20);
  await allEnded(a.client);

  let fs1 = 0, ds1 = 0, fp = 0, dp = 0;
  for (let done = 0; done < TOTAL; done += BLOCK) {
    fs1 += await floorSequential(BLOCK);
    ds1 += await daemonSequential(a.client, BLOCK);
    await allEnded(a.client);
    fp += await floorParallel(BLOCK, 16);
    dp += await daemonParallel(a.client, BLOCK, 16);
    await allEnded(a.client);
  }
  const rate = (ms: number): number => (TOTAL / ms) * 1000;
  console.log('spawn rate (spawn_process acknowledged per second; floor: raw spawn of /bin/true with a file pair, waited for)');
  console.log(`  sequential x${TOTAL}: daemon ${f(rate(ds1))}/s, floor ${f(rate(fs1))}/s, ratio ${(fs1 / ds1).toFixed(2)}x (target >= 0.7x)`);
  console.log(`  16 in flight x${TOTAL}: daemon ${f(rate(dp))}/s, floor ${f(rate(fp))}/s, ratio ${(fp / dp).toFixed(2)}x`);
  await stopDaemon(a);

  // 100 to running, and kill of 100 (each honours SIGTERM), floor interleaved.
  const b = await startDaemon('hundred');
  const runs: number[] = [], kills: number[] = [], floorRuns: number[] = [], floorKills: number[] = [];
  for (let round = 0; round < 3; round++) {
    let t = performance.now();
    const kids = Array.from({ length: 100 }, () => rawSpawn('sleep', ['1000']));
    await Promise.all(kids.map((k) => new Promise((r) => k.child.once('spawn', r))));
    floorRuns.push(performance.now() - t);
    t = performance.now();
    for (const k of kids) k.child.kill('SIGTERM');
    await Promise.all(kids.map((k) => k.exited));
    floorKills.push(performance.now() - t);

    t = performance.now();
    const recs = await Promise.all(Array.from({ length: 100 }, () => b.client.spawnProcess({ cmd: ['sleep', '1000'] })));
    runs.push(performance.now() - t);
    if (!recs.every((r) => r.status === 'running')) throw new Error('not all running');
    t = performance.now();
    await Promise.all(recs.map((r) => b.client.killProcess({ process_id: r.process_id })));
    kills.push(performance.now() - t);
  }
  console.log('100 at once (median of 3)');
  console.log(`  spawn 100 -> all running: daemon ${f(pct(runs, 50), 1)} ms, floor ${f(pct(floorRuns, 50), 1)} ms (target < 250 ms; PM2 ~350, supervisord ~420)`);
  console.log(`  kill 100 -> all ended:    daemon ${f(pct(kills, 50), 1)} ms, floor ${f(pct(floorKills, 50), 1)} ms (target < 300 ms; peers > 1 s)`);
  await stopDaemon(b);
}

async function listAndRss(): Promise<void> {
  const c = await startDaemon('list');
  await new Promise((r) => setTimeout(r, 300));
  const rssFresh = rssMiB(c.proc.pid!);
  const lat = async (): Promise<number[]> => {
    const xs: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      await c.client.listProcesses();
      xs.push(performance.now() - t);
    }
    return xs;
  };
  await daemonParallel(c.client, 100, 16);
  await allEnded(c.client);
  const l100 = await lat();
  await daemonParallel(c.client, 900, 16);
  await allEnded(c.client);
  await new Promise((r) => setTimeout(r, 300));
  const rssSpawned = rssMiB(c.proc.pid!);
  const l1000 = await lat();
  const pingLat: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    await c.client.ping();
    pingLat.push(performance.now() - t);
  }
  await new Promise((r) => setTimeout(r, 300));
  const rss1000 = rssMiB(c.proc.pid!);
  console.log('list_processes latency (round trip; ping floor in the same daemon)');
  console.log(`  100 records:   p50 ${f(pct(l100, 50), 2)} ms, p99 ${f(pct(l100, 99), 2)} ms (target p50 < 1 ms; peers 6-8 ms)`);
  console.log(`  1000 records:  p50 ${f(pct(l1000, 50), 2)} ms, p99 ${f(pct(l1000, 99), 2)} ms`);
  console.log(`  ping:          p50 ${f(pct(pingLat, 50), 2)} ms`);
  console.log('daemon RSS');
  console.log(`  fresh: ${f(rssFresh, 1)} MiB (target < 50 MiB; PM2 57 MiB)`);
  console.log(`  after 1000 spawns (1000 records): ${f(rssSpawned, 1)} MiB; after 400 more list_processes calls: ${f(rss1000, 1)} MiB`);
  await stopDaemon(c);
}

await main();
