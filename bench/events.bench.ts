/**
 * Event stream benchmark, each figure against a floor measured in the same run, interleaved block
 * by block so machine load hits both alike:
 *  1. end → watcher line latency: from a process's recorded end (`ended_at`, the wrapper's report)
 *     to the `ended` event line reaching a watcher; floor: the same end reaching a `wait_process`
 *     reply on another connection (target p50 ≤ 5 ms).
 *  2. 100 watchers' cost on ping throughput while 20 processes a second are spawned (80 events/s,
 *     8,000 event lines/s to the watchers); floor: the same with no watcher (target < 10%).
 *  3. the journal's cost on the spawn rate (spawn + wait of /bin/true, sequential); floor: a daemon
 *     started with CLAUDE_DAEMON_EVENTS_OFF=1, which records no events (target ≤ 10%).
 * Run: node scripts/build.mjs && node --import tsx bench/events.bench.ts [latency] [watchers] [spawn]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, type DaemonClient, type EventStream } from '../src/index.js';
import { startBenchDaemon, stopBenchDaemon, type BenchDaemon } from './daemon.js';

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'cd-bench-events-'));

type Daemon = BenchDaemon;
/** A bench daemon under this run's temp dir. */
const startDaemon = (name: string, env: NodeJS.ProcessEnv = {}): Promise<Daemon> => startBenchDaemon(TMP, name, { env });
const stopDaemon = stopBenchDaemon;

const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const f1 = (x: number): string => x.toFixed(1);

let seq = 0;
/** 1: latency of one end to a watcher and to a wait_process reply. */
async function latency(d: Daemon, watcher: EventStream, waiter: DaemonClient, rounds: number): Promise<{ event: number[]; wait: number[] }> {
  const event: number[] = [];
  const wait: number[] = [];
  const it = watcher[Symbol.asyncIterator]();
  for (let i = 0; i < rounds; i++) {
    const id = `lat-${seq++}`;
    await d.client.spawnProcess({ cmd: ['sleep', '0.02'], process_id: id });
    const waited = waiter.waitProcess({ process_id: id }).then((r) => ({ r, at: Date.now() }));
    let evAt: number;
    for (;;) {
      const n = await it.next();
      if (n.done) throw new Error('watch ended');
      if (n.value.type === 'ended' && n.value.process_id === id) {
        evAt = Date.now();
        break;
      }
    }
    const w = await waited;
    const endedAt = Date.parse(w.r.ended_at!);
    event.push(evAt - endedAt);
    wait.push(w.at - endedAt);
    await d.client.removeProcess(id);
  }
  return { event, wait };
}

/** 2: pings answered per second with `inFlight` pipelined, for `ms`. */
async function pingRate(c: DaemonClient, ms: number, inFlight = 64): Promise<number> {
  let n = 0;
  const end = performance.now() + ms;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) {
        await c.ping();
        n++;
      }
    }),
  );
  return (n / (performance.now() - t0)) * 1000;
}

/** Background events per second: spawns of /bin/true (each: spawned, started, ended, removed). */
const SPAWNS_PER_S = 20;

/** Background event load: SPAWNS_PER_S spawns a second (waited for and removed) until stopped. */
function spawnLoad(c: DaemonClient): () => Promise<void> {
  let stop = false;
  const done = (async () => {
    const t0 = performance.now();
    for (let i = 0; !stop; i++) {
      const due = t0 + (i * 1000) / SPAWNS_PER_S - performance.now();
      if (due > 0) await new Promise((r) => setTimeout(r, due));
      const r = await c.spawnProcess({ cmd: ['true'] });
      await c.waitProcess({ process_id: r.process_id });
      await c.removeProcess(r.process_id);
    }
  })();
  return async () => {
    stop = true;
    await done;
  };
}

/**
 * `n` watchers in a process of their own (raw sockets that count bytes and parse nothing, at nice 19),
 * so the figure is the daemon's cost, not that of clients parsing 100 streams beside the pinger.
 */
async function watcherProcess(socket: string, n: number): Promise<{ stop: () => Promise<number> }> {
  const code = `
    const net = require('node:net');
    let ready = 0, bytes = 0;
    for (let i = 0; i < ${n}; i++) {
      const s = net.createConnection(${JSON.stringify(socket)});
      let first = true;
      s.on('data', (b) => { bytes += b.length; if (first) { first = false; if (++ready === ${n}) process.stdout.write('ready\\n'); } });
      s.write(JSON.stringify({ command: 'watch', id: 1 }) + '\\n');
    }
    process.on('SIGTERM', () => { process.stdout.write(bytes + '\\n'); process.exit(0); });
  `;
  // At nice 19: on a 2-core machine their reading would otherwise take the CPU the daemon and the pinger need.
  const child = spawn('nice', ['-n', '19', process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (s: string) => (out += s));
  while (!out.includes('ready')) await new Promise((r) => setTimeout(r, 10));
  return {
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      return Number(out.trim().split('\n').at(-1));
    },
  };
}

/** 3: ms for `n` sequential spawn + wait of /bin/true. */
async function spawnTime(c: DaemonClient, n: number): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    const r = await c.spawnProcess({ cmd: ['true'] });
    await c.waitProcess({ process_id: r.process_id });
  }
  return performance.now() - t;
}

async function main(): Promise<void> {
  const on = await startDaemon('on');
  try {
    const only = process.argv.slice(2);
    const runs = (n: string): boolean => only.length === 0 || only.includes(n);
    if (runs('latency')) {
      // 1. Latency.
      const wc = await connect({ socketPath: on.socket });
      const watcher = wc.watch({ types: ['ended'] });
      await watcher.ready;
      const waiter = await connect({ socketPath: on.socket });
      await latency(on, watcher, waiter, 10); // warm-up
      const lat = await latency(on, watcher, waiter, 100);
      console.log(`end -> watcher line: p50 ${f1(pct(lat.event, 0.5))} ms, p90 ${f1(pct(lat.event, 0.9))} ms  (floor, end -> wait_process reply: p50 ${f1(pct(lat.wait, 0.5))} ms, p90 ${f1(pct(lat.wait, 0.9))} ms)  target p50 <= 5 ms`);
      await watcher.return();
      wc.close();
      waiter.close();
    }
    if (runs('watchers')) {
      // 2. 100 watchers vs none, same background spawn load, interleaved blocks.
      const pinger = await connect({ socketPath: on.socket });
      const loader = await connect({ socketPath: on.socket });
      const base: number[] = [];
      const withW: number[] = [];
      let received = 0;
      for (let block = 0; block < 8; block++) {
        let stop = spawnLoad(loader);
        base.push(await pingRate(pinger, 1000));
        await stop();
        const w = await watcherProcess(on.socket, 100);
        stop = spawnLoad(loader);
        withW.push(await pingRate(pinger, 1000));
        await stop();
        received += await w.stop();
    }
    const b = pct(base, 0.5);
    const w = pct(withW, 0.5);
    // Pairs measured back to back share the machine's load of the moment: the median of their ratios.
    const ratio = pct(withW.map((x, i) => x / base[i]!), 0.5);
    console.log(`ping throughput under ${SPAWNS_PER_S} spawns/s (${SPAWNS_PER_S * 4} events/s): ${b.toFixed(0)}/s with no watcher (floor), ${w.toFixed(0)}/s with 100 watchers (${(received / 1024).toFixed(0)} KiB of event lines delivered): cost ${f1((1 - ratio) * 100)}% (median of 8 paired 1 s blocks)  target < 10%`);
    pinger.close();
    loader.close();
    }
    if (runs('spawn')) {
      // Fresh daemons: the phases above left the first one with a history the floor does not have.
      const on2 = await startDaemon('on2');
      const off2 = await startDaemon('off2', { CLAUDE_DAEMON_EVENTS_OFF: '1' });

      // 3. Spawn rate with and without the journal, interleaved.
      await spawnTime(on2.client, 30);
      await spawnTime(off2.client, 30);
      const tOn: number[] = [];
      const tOff: number[] = [];
      for (let block = 0; block < 10; block++) {
        // Alternating which goes first, so a load change within a pair favours neither.
        if (block % 2 === 0) {
          tOff.push(await spawnTime(off2.client, 50));
          tOn.push(await spawnTime(on2.client, 50));
        } else {
          tOn.push(await spawnTime(on2.client, 50));
          tOff.push(await spawnTime(off2.client, 50));
        }
    }
    const a = pct(tOn, 0.5);
    const z = pct(tOff, 0.5);
    const cost = pct(tOn.map((x, i) => x / tOff[i]!), 0.5) - 1;
    console.log(`spawn+wait of /bin/true, 50 sequential: ${f1(a)} ms with events, ${f1(z)} ms with CLAUDE_DAEMON_EVENTS_OFF=1 (floor): cost ${f1(cost * 100)}% (median ratio of 10 paired blocks)  target <= 10%`);
    await Promise.allSettled([stopDaemon(on2), stopDaemon(off2)]);
    }
  } finally {
    await stopDaemon(on).catch(() => undefined);
    fs.rmSync(TMP, { recursive: true, force: true });
  }
}

await main();
