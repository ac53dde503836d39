/**
 * Reliability benchmark: throughput and latency with 1,000 connections, the daemon's RSS before,
 * during and after, and how promptly a well-behaved client is served while 20 clients flood.
 * Floors measured in the same run: a minimal JSON Lines ping server (what the OS and node cost with
 * no daemon logic) under the same load, and the well-behaved ping with nobody flooding.
 * Run: node scripts/build.mjs && node --import tsx bench/reliability.bench.ts
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestDaemon, pingOnce } from '../test/helpers/daemon.js';
import { daemonMemory, mib, openPipes, percentile, PingPipe, probeLatency, rssOf, startFloodProcess, stopFloodProcess } from '../test/helpers/load.js';
import { waitFor } from '../test/helpers/wait.js';

const CONNS = Number(process.env['BENCH_CONNS'] ?? 1000);
const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 100_000);
const WINDOW = 4;
const FLOODERS = 20;
const PROBES = 300;
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);

/** A JSON Lines ping server with nothing else: the floor for what a ping round trip can cost. */
const FLOOR_SERVER = `
const net = require('node:net');
const sock = process.argv[1];
net.createServer((s) => {
  let buf = '';
  s.setEncoding('utf8');
  s.on('error', () => {});
  s.on('data', (d) => {
    buf += d;
    let i, out = '';
    while ((i = buf.indexOf('\\n')) !== -1) {
      const m = JSON.parse(buf.slice(0, i)); buf = buf.slice(i + 1);
      out += JSON.stringify({ success: true, result: { pong: true, pid: process.pid }, id: m.id }) + '\\n';
    }
    if (out) s.write(out);
  });
}).listen(sock);
`;

interface LoadFigures {
  rps: number;
  p50: number;
  p99: number;
  peakRss: number;
}

async function load(socket: string, pid: number): Promise<LoadFigures> {
  const pipes = await openPipes(socket, CONNS);
  let peakRss = rssOf(pid).rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssOf(pid).rss)), 20);
  const per = Math.ceil(REQUESTS / CONNS);
  const t0 = performance.now();
  await Promise.all(pipes.map((p) => p.run(per, WINDOW)));
  const secs = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, rssOf(pid).rss);
  const lat = pipes.flatMap((p) => p.latenciesMs);
  const bad = pipes.flatMap((p) => p.bad);
  if (bad.length > 0) throw new Error(`bad replies: ${bad.slice(0, 3).join('; ')}`);
  for (const p of pipes) p.close();
  return { rps: (per * CONNS) / secs, p50: percentile(lat, 50), p99: percentile(lat, 99), peakRss };
}

async function fairness(socket: string, flooders: number): Promise<number[]> {
  const flood = flooders > 0 ? await startFloodProcess(socket, flooders) : undefined;
  const probe = await PingPipe.open(socket);
  try {
    await probeLatency(probe, 20); // warm-up
    return await probeLatency(probe, PROBES);
  } finally {
    probe.close();
    if (flood) await stopFloodProcess(flood);
  }
}

const ratio = (a: number, b: number): string => (a / b).toFixed(2);
const median = (xs: number[]): number => percentile(xs, 50);

/**
 * Floor and daemon rounds are interleaved (and the median kept) so that load from elsewhere on the
 * machine hits both alike and the ratios stay meaningful.
 */
async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cd-bench-rel-'));
  const floorSock = path.join(dir, 'floor.sock');
  const floor = spawn(process.execPath, ['-e', FLOOR_SERVER, floorSock], { stdio: 'inherit' });
  await waitFor(() => fs.existsSync(floorSock), { what: 'floor server' });
  const d = await startTestDaemon({ env: { CLAUDE_DAEMON_QUIET: '1' } });
  const pid = d.proc.pid!;
  try {
    for (const p of await openPipes(d.socket, 10)) {
      await p.run(200, 4); // warm-up
      p.close();
    }
    const before = await daemonMemory(d.socket, true);
    const floorRounds: LoadFigures[] = [];
    const daemonRounds: LoadFigures[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      floorRounds.push(await load(floorSock, floor.pid!));
      daemonRounds.push(await load(d.socket, pid));
    }
    await waitFor(() => pingOnce(d.socket), { what: 'daemon after load' });
    const after = await daemonMemory(d.socket, true);
    const f = { rps: median(floorRounds.map((r) => r.rps)), p99: median(floorRounds.map((r) => r.p99)) };
    const g = { rps: median(daemonRounds.map((r) => r.rps)), p50: median(daemonRounds.map((r) => r.p50)), p99: median(daemonRounds.map((r) => r.p99)) };
    const peak = Math.max(...daemonRounds.map((r) => r.peakRss));

    console.log(`reliability bench: ${CONNS} connections, ${CONNS * Math.ceil(REQUESTS / CONNS)} pings per round, window ${WINDOW} per connection, median of ${ROUNDS} interleaved rounds; node ${process.version}, ${os.cpus().length} cpus, load average ${os.loadavg()[0]!.toFixed(1)}`);
    console.log(`  floor server:   ${f.rps.toFixed(0)} req/s, p99 ${f.p99.toFixed(1)} ms`);
    console.log(`  daemon:         ${g.rps.toFixed(0)} req/s (x${ratio(g.rps, f.rps)} of floor), p50 ${g.p50.toFixed(1)} ms, p99 ${g.p99.toFixed(1)} ms (x${ratio(g.p99, f.p99)} of floor)`);
    console.log(`  daemon RSS:     before ${mib(before.rss)} MiB, peak during ${mib(peak)} MiB, after (GC) ${mib(after.rss)} MiB; goal: peak < 150 MiB`);
    console.log(`  daemon heap:    before ${mib(before.heap_used)} MiB, after (GC) ${mib(after.heap_used)} MiB (x${ratio(after.heap_used, before.heap_used)})`);

    const quiet: number[] = [];
    const flooded: number[] = [];
    for (let i = 0; i < 2; i++) {
      quiet.push(...(await fairness(d.socket, 0)));
      flooded.push(...(await fairness(d.socket, FLOODERS)));
    }
    const qp99 = percentile(quiet, 99);
    const fp99 = percentile(flooded, 99);
    console.log(`  ping, quiet:    p50 ${percentile(quiet, 50).toFixed(2)} ms, p99 ${qp99.toFixed(2)} ms (floor)`);
    console.log(`  ping, ${FLOODERS} floods: p50 ${percentile(flooded, 50).toFixed(2)} ms, p99 ${fp99.toFixed(2)} ms (x${ratio(fp99, qp99)} of floor), max ${Math.max(...flooded).toFixed(2)} ms; goal: p99 < 50 ms`);
    console.log(`  daemon RSS at end ${mib(rssOf(pid).rss)} MiB; peak over the whole run (VmHWM, floods included) ${mib(rssOf(pid).peak)} MiB`);
  } finally {
    floor.kill();
    await d.stop();
  }
}

await main();
