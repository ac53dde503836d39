/**
 * The foundation's benchmark: the daemon's wire against the floor (a plain-Node JSON Lines server,
 * bench/floor/jsonl-echo.mjs), and the CLI's whole-process `ping` against `node -e 0`: run as
 * `node dist/bin.js`, as `claude-daemon` from PATH (installed with `npm install -g` into a private
 * prefix, exactly the symlinks `npm link` makes), and through `npx claude-daemon`. Every figure
 * is measured in this run, beside its floor, and printed as a ratio with the issue's target.
 *
 *   node scripts/build.mjs && node --import tsx bench/core.bench.ts
 *
 * Environment knobs (for quick runs): BENCH_SEQ (sequential pings, default 10000), BENCH_SECONDS
 * (per server and throughput point, split in 5 rounds; default 5), BENCH_CLI_RUNS (CLI runs per side, default 40),
 * BENCH_NPX_RUNS (`npx claude-daemon ping` runs, default 10: each costs about a second).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'dist', 'bin.js');
const FLOOR = path.join(ROOT, 'bench', 'floor', 'jsonl-echo.mjs');
const SEQ = Number(process.env['BENCH_SEQ'] ?? 10_000);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const CLI_RUNS = Number(process.env['BENCH_CLI_RUNS'] ?? 40);
const NPX_RUNS = Number(process.env['BENCH_NPX_RUNS'] ?? 10);

/** One connection that sends a request and waits for its reply line (one in flight at a time). */
class SeqConn {
  private buf = '';
  private waiter: (() => void) | undefined;
  private constructor(private readonly sock: net.Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      let nl;
      while ((nl = this.buf.indexOf('\n')) !== -1) {
        this.buf = this.buf.slice(nl + 1);
        const w = this.waiter;
        this.waiter = undefined;
        w?.();
      }
    });
  }
  static open(p: string): Promise<SeqConn> {
    return new Promise((resolve, reject) => {
      const s = net.createConnection(p);
      s.once('connect', () => resolve(new SeqConn(s)));
      s.once('error', reject);
    });
  }
  roundTrip(id: number): Promise<void> {
    return new Promise((resolve) => {
      this.waiter = resolve;
      this.sock.write(`{"command":"ping","id":${id}}\n`);
    });
  }
  close(): void {
    this.sock.destroy();
  }
}

/**
 * Round-trip times over SEQ sequential requests on one connection per server. The servers take turns
 * in blocks of 1000, so a burst of load from elsewhere on the machine hits both alike.
 */
async function latencies(sockets: string[]): Promise<Array<{ p50: number; p99: number }>> {
  const conns = await Promise.all(sockets.map((s) => SeqConn.open(s)));
  for (const c of conns) for (let i = 0; i < 1000; i++) await c.roundTrip(i); // warm-up
  const samples = conns.map(() => [] as number[]);
  for (let done = 0; done < SEQ; done += 1000) {
    for (const [k, c] of conns.entries()) {
      for (let i = 0; i < Math.min(1000, SEQ - done); i++) {
        const t0 = process.hrtime.bigint();
        await c.roundTrip(i);
        samples[k]!.push(Number(process.hrtime.bigint() - t0) / 1000);
      }
    }
  }
  for (const c of conns) c.close();
  return samples.map((t) => {
    t.sort((a, b) => a - b);
    return { p50: t[Math.floor(t.length * 0.5)]!, p99: t[Math.floor(t.length * 0.99)]! };
  });
}

/** Requests per second with `conns` connections, each keeping one request in flight, for `seconds`. */
async function throughput(socket: string, conns: number, seconds: number): Promise<number> {
  const cs = await Promise.all(Array.from({ length: conns }, () => SeqConn.open(socket)));
  let count = 0;
  let running = true;
  const loop = async (c: SeqConn, warm: boolean): Promise<void> => {
    for (let i = 0; running; i++) {
      await c.roundTrip(i);
      if (!warm) count++;
    }
  };
  await Promise.all([...cs.map((c) => loop(c, true)), sleep(200).then(() => (running = false))]);
  running = true;
  const t0 = performance.now();
  await Promise.all([...cs.map((c) => loop(c, false)), sleep(seconds * 1000).then(() => (running = false))]);
  const rate = count / ((performance.now() - t0) / 1000);
  for (const c of cs) c.close();
  return rate;
}

/** Throughput of each server, measured in alternating rounds; the median round of each is kept. */
async function throughputs(sockets: string[], conns: number): Promise<number[]> {
  const rounds = 5;
  const rates = sockets.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (const [k, s] of sockets.entries()) rates[k]!.push(await throughput(s, conns, SECONDS / rounds));
  }
  return rates.map(median);
}

function wallMs(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'], ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
  return performance.now() - t0;
}

const CPU_PROBE = path.join(ROOT, 'bench', 'floor', 'cpu-at-exit.cjs');

/** CPU milliseconds (user + system) the process itself used, via a preloaded exit hook. */
function cpuMs(args: string[]): number {
  const r = spawnSync(process.execPath, ['-r', CPU_PROBE, ...args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const m = /cpu-ms ([\d.]+)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return Number(m[1]);
}

/**
 * Puts the CLI on PATH the way the README says (`npm install -g .`), into a private prefix so the
 * machine's global one is untouched; returns an environment whose PATH finds it first.
 */
function installOnPath(dir: string): NodeJS.ProcessEnv {
  const prefix = path.join(dir, 'prefix');
  const r = spawnSync('npm', ['install', '-g', ROOT, '--prefix', prefix, '--ignore-scripts', '--no-audit', '--no-fund'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`npm install -g . --prefix ${prefix} exited ${r.status}`);
  const bin = path.join(prefix, 'bin');
  if (!fs.existsSync(path.join(bin, 'claude-daemon'))) throw new Error(`npm install -g put no claude-daemon in ${bin}`);
  return { ...process.env, PATH: `${bin}${path.delimiter}${process.env['PATH'] ?? ''}` };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function startServer(args: string[], socket: string, env: NodeJS.ProcessEnv = {}): Promise<ChildProcess> {
  const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (p.exitCode !== null) throw new Error(`${args.join(' ')} exited ${p.exitCode}`);
    if (await answers(socket)) return p;
    if (Date.now() > deadline) throw new Error(`${args.join(' ')} never answered on ${socket}`);
    await sleep(20);
  }
}

async function answers(socket: string): Promise<boolean> {
  try {
    const c = await SeqConn.open(socket);
    await c.roundTrip(0);
    c.close();
    return true;
  } catch {
    return false;
  }
}

function stop(p: ChildProcess): Promise<void> {
  return new Promise((r) => {
    if (p.exitCode !== null) return r();
    p.once('exit', () => r());
    p.kill('SIGTERM');
  });
}

const fmt = (n: number, d = 1): string => n.toFixed(d);
function row(label: string, floor: number, ours: number, unit: string, target: string, ok: boolean, d = 1): void {
  const ratio = ours / floor;
  console.log(`${label.padEnd(28)} floor ${fmt(floor, d).padStart(9)} ${unit.padEnd(6)} daemon ${fmt(ours, d).padStart(9)} ${unit.padEnd(6)} ratio ${fmt(ratio, 2).padStart(5)}x  (target ${target}) ${ok ? 'ok' : 'MISSED'}`);
}

async function main(): Promise<void> {
  if (!fs.existsSync(BIN)) throw new Error('dist/bin.js is missing: run `node scripts/build.mjs` first');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cd-bench-'));
  const floorSock = path.join(dir, 'floor.sock');
  const daemonSock = path.join(dir, 'daemon.sock');
  const floor = await startServer([FLOOR, floorSock], floorSock);
  const daemon = await startServer([BIN, 'start', '--socket', daemonSock, '--home', path.join(dir, 'home'), '--modules-dir', path.join(dir, 'modules')], daemonSock, {
    CLAUDE_DAEMON_QUIET: '1',
  });
  console.log(`node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ${os.platform()} ${os.release()}`);
  try {
    const [lf, ld] = (await latencies([floorSock, daemonSock])) as [{ p50: number; p99: number }, { p50: number; p99: number }];
    console.log(`\nping round trip, ${SEQ} sequential requests on one connection (microseconds):`);
    row('p50', lf.p50, ld.p50, 'us', '<= 1.3x', ld.p50 / lf.p50 <= 1.3);
    row('p99', lf.p99, ld.p99, 'us', 'none', true);

    console.log(`\nthroughput, one request in flight per connection, median of 5 alternating rounds of ${SECONDS / 5}s (requests/s):`);
    for (const n of [1, 10, 100]) {
      const [tf, td] = (await throughputs([floorSock, daemonSock], n)) as [number, number];
      row(`${n} connection${n === 1 ? '' : 's'}`, tf, td, 'req/s', n === 100 ? '>= 0.7x' : 'none', n !== 100 || td / tf >= 0.7, 0);
    }
  } finally {
    await stop(floor);
  }

  try {
    console.log(`\nCLI wall time, whole process, median of ${CLI_RUNS} interleaved runs (ms):`);
    // A reference between the two: the least any Node client can do (load net, connect, one line).
    const minimal = `const s=require('net').createConnection(process.argv[1]);s.on('connect',()=>s.write('{"command":"ping"}\\n'));s.on('data',()=>s.destroy())`;
    const onPath = installOnPath(dir);
    const runs = { node: [] as number[], minimal: [] as number[], cli: [] as number[], path: [] as number[] };
    const once = (): void => {
      runs.node.push(wallMs(process.execPath, ['-e', '0']));
      runs.minimal.push(wallMs(process.execPath, ['-e', minimal, daemonSock]));
      runs.cli.push(wallMs(process.execPath, [BIN, 'ping', '--socket', daemonSock]));
      runs.path.push(wallMs('claude-daemon', ['ping', '--socket', daemonSock], { env: onPath }));
    };
    once(); // warm the file cache
    for (const k of Object.keys(runs) as Array<keyof typeof runs>) runs[k].length = 0;
    for (let i = 0; i < CLI_RUNS; i++) once();
    const mn = median(runs.node);
    const mm = median(runs.minimal);
    const mc = median(runs.cli);
    const mp = median(runs.path);
    console.log(`${'node -e 0'.padEnd(36)} ${fmt(mn).padStart(7)} ms`);
    console.log(`${'3-line plain-Node net ping (ref.)'.padEnd(36)} ${fmt(mm).padStart(7)} ms   ratio ${fmt(mm / mn, 2)}x`);
    console.log(`${'node dist/bin.js ping'.padEnd(36)} ${fmt(mc).padStart(7)} ms   ratio ${fmt(mc / mn, 2)}x  (target <= 1.3x) ${mc / mn <= 1.3 ? 'ok' : 'MISSED'}`);
    console.log(`${'claude-daemon ping (from PATH)'.padEnd(36)} ${fmt(mp).padStart(7)} ms   ratio ${fmt(mp / mn, 2)}x  (target <= 1.3x) ${mp / mn <= 1.3 ? 'ok' : 'MISSED'}`);

    // npx resolves the package through npm on every call: about a second, which is why the README
    // says to put the CLI on PATH. Fewer runs, interleaved with their own `node -e 0`.
    const npx = { node: [] as number[], npx: [] as number[] };
    wallMs('npx', ['claude-daemon', 'ping', '--socket', daemonSock], { cwd: ROOT }); // first use may install the link
    for (let i = 0; i < NPX_RUNS; i++) {
      npx.node.push(wallMs(process.execPath, ['-e', '0']));
      npx.npx.push(wallMs('npx', ['claude-daemon', 'ping', '--socket', daemonSock], { cwd: ROOT }));
    }
    const [nn, nx] = [median(npx.node), median(npx.npx)];
    console.log(`${`npx claude-daemon ping (median of ${NPX_RUNS})`.padEnd(36)} ${fmt(nx).padStart(7)} ms   ratio ${fmt(nx / nn, 2)}x of its own node -e 0 (${fmt(nn)} ms)`);

    // The same three as CPU time of the process itself: what the wall ratio tends to on an idle machine.
    console.log(`\nCLI CPU time (user + system of the process), median of ${CLI_RUNS} interleaved runs (ms):`);
    const cpu = { node: [] as number[], minimal: [] as number[], cli: [] as number[] };
    for (let i = 0; i < CLI_RUNS; i++) {
      cpu.node.push(cpuMs(['-e', '0']));
      cpu.minimal.push(cpuMs(['-e', minimal, daemonSock]));
      cpu.cli.push(cpuMs([BIN, 'ping', '--socket', daemonSock]));
    }
    const [cn, cm, cc] = [median(cpu.node), median(cpu.minimal), median(cpu.cli)];
    console.log(`${'node -e 0'.padEnd(36)} ${fmt(cn).padStart(7)} ms`);
    console.log(`${'3-line plain-Node net ping (ref.)'.padEnd(36)} ${fmt(cm).padStart(7)} ms   ratio ${fmt(cm / cn, 2)}x`);
    console.log(`${'claude-daemon ping'.padEnd(36)} ${fmt(cc).padStart(7)} ms   ratio ${fmt(cc / cn, 2)}x`);
  } finally {
    await stop(daemon);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
