/**
 * A daemon started the way users start a background one, `start --detach`, so it runs under its
 * keeper (claude-daemon-wrap --keep): for the tests that kill it and expect it back.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, type DaemonClient } from '../../src/index.js';
import type { ResultOf } from '../../src/protocol/index.js';
import { BIN, type CliResult } from './daemon.js';
import { waitFor } from './wait.js';

/** What ping says, or undefined when nothing answers. */
export type Ping = ResultOf<'ping'>;

/** A detached daemon in its own temp directory. */
export interface KeptDaemon {
  dir: string;
  socket: string;
  home: string;
  /** The keeper's pid (null when started without one). */
  keeper: number | null;
  /** Output of `start --detach --json`. */
  started: CliResult;
  ping(): Promise<Ping | undefined>;
  /** Waits until a daemon other than `oldPid` answers; returns its ping. */
  waitNewDaemon(oldPid: number, timeoutMs?: number): Promise<Ping>;
  client(): Promise<DaemonClient>;
  /** Kills every process still running, shuts down, waits for keeper and daemon to be gone, removes the directory. */
  cleanup(): Promise<void>;
}

/** Runs a CLI entry (dist/bin.js by default) with its output collected. */
export function runEntry(bin: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts `start --detach` (extra args and env as given) and returns handles on it. */
export async function startKept(opts: { args?: string[]; env?: NodeJS.ProcessEnv; bin?: string } = {}): Promise<KeptDaemon> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cd-kept-'));
  const socket = path.join(dir, 'd.sock');
  const home = path.join(dir, 'home');
  const started = await runEntry(opts.bin ?? BIN, ['start', '--detach', '--json', '--socket', socket, '--home', home, '--modules-dir', path.join(dir, 'mods'), ...(opts.args ?? [])], opts.env);
  if (started.code !== 0) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`start --detach failed (${started.code}): ${started.stderr}`);
  }
  const keeper = (JSON.parse(started.stdout) as { keeper: number | null }).keeper;
  const clients: DaemonClient[] = [];
  const ping = async (): Promise<Ping | undefined> => {
    try {
      const c = await connect({ socketPath: socket, connectTimeoutMs: 1000 });
      try {
        return await c.ping({ timeoutMs: 2000 });
      } finally {
        c.close();
      }
    } catch {
      return undefined;
    }
  };
  return {
    dir,
    socket,
    home,
    keeper,
    started,
    ping,
    waitNewDaemon: (oldPid, timeoutMs = 15_000) =>
      waitFor(async () => {
        const r = await ping();
        return r !== undefined && r.pid !== oldPid ? r : undefined;
      }, { what: `a daemon other than ${oldPid} to answer on ${socket}`, timeoutMs, intervalMs: 10 }),
    async client() {
      const c = await connect({ socketPath: socket });
      clients.push(c);
      return c;
    },
    async cleanup() {
      for (const c of clients.splice(0)) c.close();
      const last = await ping();
      if (last !== undefined) {
        const c = await connect({ socketPath: socket });
        await c.shutdown({ kill_processes: true }).catch(() => undefined);
        c.close();
      }
      const pids = [keeper, last?.pid].filter((p): p is number => typeof p === 'number');
      if (last === undefined && keeper !== null && alive(keeper)) process.kill(keeper, 'SIGKILL');
      try {
        await waitFor(() => pids.every((p) => !alive(p)), { what: `keeper and daemon (${pids.join(', ')}) to exit`, timeoutMs: 15_000 });
      } finally {
        for (const p of pids) if (alive(p)) process.kill(p, 'SIGKILL');
        killStrays(dir);
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** True when `pid` runs (not a zombie). */
export function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Seconds since boot now (/proc/uptime, centiseconds), the clock of a process's start time. */
export function uptimeNow(): number {
  return Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
}

/** When `pid` started, in seconds since boot (field 22 of /proc/PID/stat, in clock ticks of 1/100 s). */
export function startedAt(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]) / 100;
}

/**
 * After a failed test, nothing may stay behind: every process whose command line names `dir` (a
 * wrapper names its state directory; a daemon its socket) is SIGKILLed with its children's groups.
 */
function killStrays(dir: string): void {
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (!fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(dir)) continue;
      const children = fs.readFileSync(`/proc/${name}/task/${name}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
      for (const child of children) {
        for (const target of [-child, child]) {
          try {
            process.kill(target, 'SIGKILL');
          } catch {
            // gone, or not a group leader
          }
        }
      }
      process.kill(Number(name), 'SIGKILL');
    } catch {
      // gone
    }
  }
}
