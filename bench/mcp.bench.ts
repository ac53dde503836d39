/**
 * The MCP server's benchmark. Cold start: from spawning `node dist/bin.js mcp` to its answer to
 * tools/list (after initialize), the figure the claude CLI's ~2 s pre-wait for MCP servers cares
 * about (target <= 0.6 s), beside a floor measured in the same run: a plain-Node stdio server that
 * answers the same two requests with canned replies (node's own start-up plus the pipe). Round trip:
 * the `ping` tool (MCP -> server -> daemon -> back) beside the MCP protocol's own `ping` (answered by
 * the SDK inside the server, no daemon) as the floor, over one session of the SDK's client.
 *
 *   node scripts/build.mjs && node --import tsx bench/mcp.bench.ts
 *
 * Knobs: BENCH_MCP_RUNS (cold starts per side, interleaved; default 20), BENCH_MCP_CALLS (sequential
 * calls per side; default 2000).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'dist', 'bin.js');
const RUNS = Number(process.env['BENCH_MCP_RUNS'] ?? 20);
const CALLS = Number(process.env['BENCH_MCP_CALLS'] ?? 2000);

const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '0' } } };
const INITIALIZED = { jsonrpc: '2.0', method: 'notifications/initialized' };
const LIST = { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} };

/** The floor: node, reading JSON-RPC lines on stdin and answering initialize and tools/list at once. */
const FLOOR_SERVER = `let b='';process.stdin.on('data',d=>{b+=d;let i;while((i=b.indexOf('\\n'))>=0){const m=JSON.parse(b.slice(0,i));b=b.slice(i+1);if(m.id!==undefined)process.stdout.write(JSON.stringify({jsonrpc:'2.0',id:m.id,result:m.method==='tools/list'?{tools:[]}:{protocolVersion:'2025-06-18',capabilities:{tools:{}},serverInfo:{name:'floor',version:'0'}}})+'\\n')}});process.stdin.on('end',()=>process.exit(0))`;

/** Reports the process's own CPU time at exit (less sensitive to the machine's load than wall time). */
const CPU_PROBE = path.join(ROOT, 'bench', 'floor', 'cpu-at-exit.cjs');

/** Milliseconds from spawn to the tools/list reply, and the CPU milliseconds the process used in all. */
function coldStart(args: string[]): Promise<{ wall: number; cpu: number }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(process.execPath, ['-r', CPU_PROBE, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    p.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('"id":2')) {
        const wall = Number(process.hrtime.bigint() - t0) / 1e6;
        p.stdin.end();
        p.once('close', () => resolve({ wall, cpu: Number(/cpu-ms ([\d.]+)/.exec(err)?.[1] ?? NaN) }));
      }
    });
    p.once('error', reject);
    p.stdin.write([INIT, INITIALIZED, LIST].map((m) => JSON.stringify(m)).join('\n') + '\n');
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function answers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createConnection(socket);
    s.once('error', () => resolve(false));
    s.once('connect', () => s.write('{"command":"ping"}\n'));
    s.once('data', () => {
      s.destroy();
      resolve(true);
    });
  });
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cd-bench-mcp-'));
  const socket = path.join(dir, 'd.sock');
  let daemon: ChildProcess | undefined;
  try {
    console.log(`node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    daemon = spawn(process.execPath, [BIN, 'start', '--socket', socket, '--home', path.join(dir, 'home'), '--modules-dir', path.join(dir, 'modules')], { stdio: 'ignore', env: { ...process.env, CLAUDE_DAEMON_QUIET: '1' } });
    const deadline = Date.now() + 15_000;
    while (!(await answers(socket))) {
      if (Date.now() > deadline) throw new Error('the daemon did not start');
      await new Promise((r) => setTimeout(r, 50));
    }

    const floor: { wall: number; cpu: number }[] = [];
    const ours: { wall: number; cpu: number }[] = [];
    await coldStart(['-e', FLOOR_SERVER]);
    await coldStart([BIN, 'mcp', '--socket', socket, '--no-start']); // warm the page cache
    for (let i = 0; i < RUNS; i++) {
      floor.push(await coldStart(['-e', FLOOR_SERVER]));
      ours.push(await coldStart([BIN, 'mcp', '--socket', socket, '--no-start']));
    }
    const [f, o] = [median(floor.map((x) => x.wall)), median(ours.map((x) => x.wall))];
    const [fc, oc] = [median(floor.map((x) => x.cpu)), median(ours.map((x) => x.cpu))];
    console.log(`\ncold start to tools/list answered, median of ${RUNS} interleaved runs (ms):`);
    console.log(`${'plain-node stdio floor'.padEnd(32)} wall ${f.toFixed(0).padStart(5)} ms   cpu ${fc.toFixed(0).padStart(5)} ms`);
    console.log(`${'claude-daemon mcp'.padEnd(32)} wall ${o.toFixed(0).padStart(5)} ms   cpu ${oc.toFixed(0).padStart(5)} ms   wall ratio ${(o / f).toFixed(2)}x, cpu ratio ${(oc / fc).toFixed(2)}x   (target wall <= 600 ms) ${o <= 600 ? 'ok' : 'MISSED'}`);
    console.log(`${'  slowest run'.padEnd(32)} wall ${Math.max(...ours.map((x) => x.wall)).toFixed(0).padStart(5)} ms`);

    const client = new Client({ name: 'bench', version: '0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp', '--socket', socket, '--no-start'], stderr: 'ignore' }));
    for (let i = 0; i < 200; i++) {
      await client.ping();
      await client.callTool({ name: 'ping', arguments: {} });
    }
    const t = { floor: [] as number[], tool: [] as number[] };
    for (let done = 0; done < CALLS; done += 100) {
      for (let i = 0; i < 100; i++) {
        const t0 = process.hrtime.bigint();
        await client.ping();
        t.floor.push(Number(process.hrtime.bigint() - t0) / 1000);
      }
      for (let i = 0; i < 100; i++) {
        const t0 = process.hrtime.bigint();
        await client.callTool({ name: 'ping', arguments: {} });
        t.tool.push(Number(process.hrtime.bigint() - t0) / 1000);
      }
    }
    await client.close();
    const [pf, pt] = [median(t.floor), median(t.tool)];
    console.log(`\nround trip over one stdio session, median of ${CALLS} sequential calls each (microseconds):`);
    console.log(`${'MCP ping (floor: no daemon)'.padEnd(32)} ${pf.toFixed(0).padStart(6)} us`);
    console.log(`${'ping tool (through the daemon)'.padEnd(32)} ${pt.toFixed(0).padStart(6)} us   ratio ${(pt / pf).toFixed(2)}x`);
  } finally {
    daemon?.kill('SIGTERM');
    if (daemon && daemon.exitCode === null) await new Promise((r) => daemon!.once('exit', r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
