/**
 * Stopping many at once, side by side: 100 running `sleep 1000`, each stopped with SIGTERM, timed
 * two ways: until every one has ended (all 100 pids gone or zombies, watched in /proc from here), and
 * until the supervisor has confirmed it (its replies). Through claude-daemon, two ways: one
 * `kill_process {process_ids: [all 100], signal: SIGTERM}` (the like of supervisord's one call; it
 * replies once all have ended), and 100 pipelined `kill_process`, one per process, each replying once
 * its process has ended ("claude-daemon x100"); and through supervisord (XML-RPC
 * `supervisor.stopAllProcesses(wait=true)` over its unix socket; supervisord answers a waiting call
 * from its 1 s select loop, so its confirmation is often ~1 s late while the kills themselves are fast, from a warm connection as well, so
 * neither side pays a CLI start). The floor: the same 100 `sleep`s as plain children of this Node
 * process, `kill(SIGTERM)` each, await every 'exit'. Rounds alternate between the three (order
 * rotating) so machine load hits them alike; medians reported with ratios to the floor.
 *
 * Setup: supervisord is installed with `apt-get install -y supervisor` if missing (root only; it is
 * skipped otherwise). Run: node scripts/build.mjs && node --import tsx bench/stop.bench.ts [rounds]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { DaemonClient } from '../src/index.js';
import { startBenchDaemon, type BenchDaemon } from './daemon.js';

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'cd-bench-stop-'));
const N = 100;
const ROUNDS = Number(process.argv[2] ?? 7);

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** supervisord present, or installed now (root with apt); false when neither. */
function ensureSupervisord(): boolean {
  if (has('supervisord')) return true;
  if (process.getuid?.() !== 0 || !has('apt-get')) return false;
  console.log('installing supervisor with apt-get (bench setup)...');
  const r = spawnSync('sh', ['-c', 'DEBIAN_FRONTEND=noninteractive apt-get install -y supervisor >/dev/null 2>&1 || (apt-get update >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y supervisor >/dev/null 2>&1)'], { stdio: 'inherit' });
  return r.status === 0 && has('supervisord');
}

// --- claude-daemon ---------------------------------------------------------------------------

/** The claude-daemon side: a bench daemon under this run's temp dir. */
const startDaemon = (): Promise<BenchDaemon> => startBenchDaemon(TMP, 'cd');

/** Both timings of one round: all pids ended (seen in /proc), and the supervisor's confirmation. */
interface Timing {
  ended: number;
  confirmed: number;
}

/** True when `pid` is gone or a zombie. */
function dead(pid: number): boolean {
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = st[st.lastIndexOf(')') + 2];
    return state === 'Z' || state === 'X';
  } catch {
    return true;
  }
}

/**
 * Resolves with the time (from t0) at which every pid was dead, checking every millisecond. Each
 * check stops at the first pid still alive (all must die, so the order does not matter): a few
 * syscalls per check, not hundreds, so the watching does not take the CPU from what it watches.
 */
function allDead(pids: number[], t0: number): Promise<number> {
  let i = 0;
  return new Promise((resolve) => {
    const check = (): void => {
      while (i < pids.length && dead(pids[i]!)) i++;
      if (i === pids.length) resolve(performance.now() - t0);
      else setTimeout(check, 1);
    };
    check();
  });
}

async function daemonRound(c: DaemonClient, batch: boolean): Promise<Timing> {
  const recs = await Promise.all(Array.from({ length: N }, () => c.spawnProcess({ cmd: ['sleep', '1000'] })));
  if (!recs.every((r) => r.status === 'running')) throw new Error('not all running');
  const t = performance.now();
  const killing = batch
    ? c.killProcess({ process_ids: recs.map((r) => r.process_id), signal: 'SIGTERM' }).then((r) => r.processes)
    : Promise.all(recs.map((r) => c.killProcess({ process_id: r.process_id, signal: 'SIGTERM' })));
  const endedMs = await allDead(recs.map((r) => r.pid!), t);
  const ended = await killing;
  const ms = performance.now() - t;
  if (!ended.every((r) => r.status === 'killed' && r.signal === 'SIGTERM')) throw new Error(`not all killed by SIGTERM: ${JSON.stringify(ended.find((r) => r.signal !== 'SIGTERM'))}`);
  await Promise.all(recs.map((r) => c.removeProcess(r.process_id)));
  return { ended: endedMs, confirmed: ms };
}

// --- supervisord -----------------------------------------------------------------------------

const SV_SOCK = path.join(TMP, 'sv.sock');

function startSupervisord(): ChildProcess {
  const conf = path.join(TMP, 'supervisord.conf');
  fs.writeFileSync(conf, [
    '[unix_http_server]', `file=${SV_SOCK}`, '',
    '[supervisord]', 'nodaemon=true', `logfile=${path.join(TMP, 'supervisord.log')}`, `pidfile=${path.join(TMP, 'supervisord.pid')}`, `childlogdir=${TMP}`, 'loglevel=warn', '',
    '[rpcinterface:supervisor]', 'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface', '',
    '[program:s]', 'command=sleep 1000', `numprocs=${N}`, 'process_name=%(program_name)s%(process_num)d', 'autostart=false', 'autorestart=false',
    'startsecs=0', 'stopsignal=TERM', 'stopwaitsecs=10', 'stdout_logfile=NONE', 'stderr_logfile=NONE', '',
  ].join('\n'));
  return spawn('supervisord', ['-c', conf], { stdio: 'ignore' });
}

/** One XML-RPC call over supervisord's unix socket; resolves with the response body. */
function rpc(method: string, params: string[] = [], agent?: http.Agent): Promise<string> {
  const body = `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${params.map((p) => `<param><value>${p}</value></param>`).join('')}</params></methodCall>`;
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: SV_SOCK, path: '/RPC2', method: 'POST', agent, headers: { 'Content-Type': 'text/xml', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      let out = '';
      res.setEncoding('utf8').on('data', (d: string) => (out += d)).on('end', () => (out.includes('<fault>') ? reject(new Error(out)) : resolve(out)));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function supervisordRound(agent: http.Agent): Promise<Timing> {
  await rpc('supervisor.startAllProcesses', ['<boolean>1</boolean>'], agent);
  const info = await rpc('supervisor.getAllProcessInfo', [], agent);
  const running = info.match(/<string>RUNNING<\/string>/g)?.length ?? 0;
  if (running !== N) throw new Error(`supervisord: ${running} of ${N} running`);
  const pids = [...info.matchAll(/<name>pid<\/name>\s*<value><int>(\d+)<\/int>/g)].map((m) => Number(m[1]));
  if (pids.length !== N) throw new Error(`supervisord: ${pids.length} pids`);
  const t = performance.now();
  const stopping = rpc('supervisor.stopAllProcesses', ['<boolean>1</boolean>'], agent);
  const endedMs = await allDead(pids, t);
  await stopping;
  const ms = performance.now() - t;
  const stopped = (await rpc('supervisor.getAllProcessInfo', [], agent)).match(/<string>STOPPED<\/string>/g)?.length ?? 0;
  if (stopped !== N) throw new Error(`supervisord: ${stopped} of ${N} stopped`);
  return { ended: endedMs, confirmed: ms };
}

// --- floor -----------------------------------------------------------------------------------

async function floorRound(): Promise<Timing> {
  const kids = Array.from({ length: N }, () => spawn('sleep', ['1000'], { stdio: 'ignore' }));
  await Promise.all(kids.map((k) => new Promise((r) => k.once('spawn', r))));
  const exited = kids.map((k) => new Promise((r) => k.once('exit', r)));
  const t = performance.now();
  for (const k of kids) k.kill('SIGTERM');
  await Promise.all(exited);
  const ms = performance.now() - t;
  return { ended: ms, confirmed: ms };
}

// ---------------------------------------------------------------------------------------------

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function main(): Promise<void> {
  const withSv = ensureSupervisord();
  if (!withSv) console.log('supervisord not available (and cannot be installed here): measuring claude-daemon and the floor only');
  const d = await startDaemon();
  let sv: ChildProcess | undefined;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  if (withSv) {
    sv = startSupervisord();
    for (let i = 0; ; i++) {
      try {
        await rpc('supervisor.getState', [], agent);
        break;
      } catch {
        if (i > 300) throw new Error('supervisord did not start');
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }
  const times: Record<'floor' | 'claude-daemon' | 'claude-daemon x100' | 'supervisord', Timing[]> = { floor: [], 'claude-daemon': [], 'claude-daemon x100': [], supervisord: [] };
  try {
    // One warm-up round each, not counted.
    await floorRound();
    await daemonRound(d.client, true);
    await daemonRound(d.client, false);
    if (withSv) await supervisordRound(agent);
    for (let round = 0; round < ROUNDS; round++) {
      const order: Array<keyof typeof times> = ['floor', 'claude-daemon', 'claude-daemon x100', ...(withSv ? ['supervisord' as const] : [])];
      for (let i = 0; i < round % order.length; i++) order.push(order.shift()!);
      for (const who of order) {
        const ms = who === 'floor' ? await floorRound() : who === 'supervisord' ? await supervisordRound(agent) : await daemonRound(d.client, who === 'claude-daemon');
        times[who].push(ms);
      }
    }
  } finally {
    await d.client.shutdown({ kill_processes: true }).catch(() => undefined);
    d.client.close();
    if (sv !== undefined) {
      await rpc('supervisor.shutdown', [], agent).catch(() => undefined);
      await new Promise((r) => (sv!.exitCode !== null ? r(undefined) : sv!.once('exit', r)));
    }
    agent.destroy();
  }
  const pick = (k: keyof typeof times, m: keyof Timing): number => median(times[k].map((t) => t[m]));
  console.log(`stop ${N} x sleep with SIGTERM (median of ${ROUNDS} alternating rounds; floor: raw kill of ${N} Node children; claude-daemon: one kill_process with process_ids, x100: 100 pipelined kill_process)`);
  for (const m of ['ended', 'confirmed'] as const) {
    const floor = pick('floor', m);
    const cd = pick('claude-daemon', m);
    const cd100 = pick('claude-daemon x100', m);
    let line = `  ${m === 'ended' ? 'all ended (seen in /proc)' : 'confirmed (replies)     '}: floor ${floor.toFixed(1)} ms, claude-daemon ${cd.toFixed(1)} ms (${(cd / floor).toFixed(1)}x), x100 ${cd100.toFixed(1)} ms (${(cd100 / floor).toFixed(1)}x)`;
    if (withSv) {
      const s = pick('supervisord', m);
      line += `, supervisord ${s.toFixed(1)} ms (${(s / floor).toFixed(1)}x); claude-daemon / supervisord ${(cd / s).toFixed(2)} (target <= 1), x100 / supervisord ${(cd100 / s).toFixed(2)}`;
    }
    console.log(line);
  }
  for (const [k, v] of Object.entries(times)) if (v.length > 0) console.log(`  ${k} rounds, ended/confirmed ms: ${v.map((t) => `${t.ended.toFixed(0)}/${t.confirmed.toFixed(0)}`).join(' ')}`);
}

try {
  await main();
} finally {
  fs.rmSync(TMP, { recursive: true, force: true });
}
