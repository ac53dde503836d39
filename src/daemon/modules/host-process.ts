/**
 * The daemon's side of the module host process (host-entry.ts): one Node child holding every
 * TypeScript/JavaScript module version's worker thread, so no module code runs in the daemon's
 * process. It is started on first use and again, after a short backoff, when it dies; each version
 * sees its worker through a HostWorker, which reports the host's death as its own end.
 *
 * Crash loops are bounded per version. A host's death is blamed on one version: of those that had a
 * call running or were loading, the one that was sent a call (or started) last, since code that
 * ends its process mostly does so right away. A snapshot blamed CRASH_LOOP_LIMIT times within
 * CRASH_LOOP_WINDOW_MS is not started again until the window passes (a changed file is a new
 * snapshot and is tried at once); the others restart after each death, with a backoff.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { CommandError } from '../command-error.js';
import type { Logger } from '../log.js';
import type { Duplex } from 'node:stream';
import { JsonLinesChannel } from './host-channel.js';
import type { FromHost, ToHost } from './host-messages.js';
import { HostWorker, LiveHost } from './host-worker.js';
import { forEachLine } from './log-lines.js';
import type { FromRuntime, ToRuntime } from './messages.js';

/** Host deaths a version may be blamed for within the window before it is no longer restarted. */
export const CRASH_LOOP_LIMIT = 3;
export const CRASH_LOOP_WINDOW_MS = 60_000;
/** How long the host may take to boot before a start is declared failed. */
const HOST_START_TIMEOUT_MS = 10_000;
/** At shutdown: how long the host may take to end its workers before it is killed. */
const HOST_EXIT_WAIT_MS = 2_000;
const RSS_REFRESH_MS = 1_000;
/** sun_path is 108 bytes on Linux, including the terminating NUL. */
const MAX_SOCKET_PATH = 100;
/** Linux's page size on the architectures Node ships for (statm counts pages). */
const PAGE_BYTES = 4096;

/** What the daemon starts the host with. */
export interface HostSettings {
  hostEntry: string;
  workerEntry: string;
  env: NodeJS.ProcessEnv;
  memoryMb: number;
  /** Where to listen for workers connecting directly (in the private state directory). */
  directSocket?: string;
}

/** Starts, restarts and stops the module host; opens workers in it. */
export class ModuleHostProcess {
  private live: Promise<LiveHost> | undefined;
  private current: LiveHost | undefined;
  private nextWorker = 1;
  private deaths: number[] = [];
  private readonly blame = new Map<string, number[]>();
  private stopped = false;
  private rss: { pid: number; rss: number; at: number } | undefined;
  private directServer: net.Server | undefined;
  private directPath: string | undefined;

  constructor(
    private readonly settings: HostSettings,
    private readonly log: Logger,
  ) {}

  /** The host's pid and resident memory in bytes, or undefined while no host runs. */
  stats(): { pid: number; rss: number } | undefined {
    const pid = this.current && !this.current.dead ? this.current.child.pid : undefined;
    if (pid === undefined) return undefined;
    // Read at most once a second: ping carries it, and ping is the daemon's cheapest command.
    const now = Date.now();
    if (this.rss?.pid === pid && now - this.rss.at < RSS_REFRESH_MS) return { pid, rss: this.rss.rss };
    try {
      const pages = Number(fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]);
      this.rss = { pid, rss: pages * PAGE_BYTES, at: now };
      return { pid, rss: this.rss.rss };
    } catch {
      return undefined;
    }
  }

  /** A worker for a new version of snapshot `key` (name and hash); MODULE_CRASHED in a crash loop. */
  async openWorker(name: string, key: string): Promise<HostWorker> {
    const now = Date.now();
    const blamed = (this.blame.get(key) ?? []).filter((t) => now - t < CRASH_LOOP_WINDOW_MS);
    if (blamed.length >= CRASH_LOOP_LIMIT) {
      const wait = Math.ceil((CRASH_LOOP_WINDOW_MS - (now - blamed[0]!)) / 1000);
      throw new CommandError('MODULE_CRASHED', `module '${name}' took the module host process down ${blamed.length} times within ${CRASH_LOOP_WINDOW_MS / 1000} s (a crash loop), so this version is not restarted for ${wait} s; save a fixed file (or load_module after that) to run it again`);
    }
    let host = await this.ensure();
    // The host may have died between being ready and now: its death has been dealt with, use the next.
    for (let tries = 0; host.dead && tries < 3; tries++) host = await this.ensure();
    if (host.dead) throw new CommandError('MODULE_CRASHED', `module '${name}': the module host process keeps dying while it starts`);
    const w = new HostWorker(this.nextWorker++, key, host);
    host.workers.set(w.id, w);
    host.send({ t: 'open', w: w.id });
    return w;
  }

  /** Daemon shutdown: ask the host to end its workers and exit; kill it if it does not. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.directServer?.close();
    if (this.directPath) fs.rmSync(this.directPath, { force: true });
    const host = await this.live?.catch(() => undefined);
    if (!host || host.dead) return;
    const gone = new Promise<void>((r) => host.child.once('exit', () => r()));
    host.send({ t: 'exit' });
    const timer = setTimeout(() => host.child.kill('SIGKILL'), HOST_EXIT_WAIT_MS);
    // Bounded even if its exit is never reported: seen once, after ~20,000 connections, the host a
    // zombie that Node had not reaped until a SIGCHLD came by, and shutdown waited on it for good.
    let bound: NodeJS.Timeout | undefined;
    await Promise.race([gone, new Promise<void>((r) => (bound = setTimeout(r, 2 * HOST_EXIT_WAIT_MS)))]);
    clearTimeout(timer);
    clearTimeout(bound);
  }

  /**
   * The socket workers connect to so that a call and its reply cross one boundary (daemon-worker)
   * instead of two (daemon-host, host-worker). Relaying stays the fallback (no such socket, a
   * path too long for a Unix socket, a worker that cannot connect).
   */
  private async listenDirect(): Promise<void> {
    if (this.directServer || !this.settings.directSocket || Buffer.byteLength(this.settings.directSocket) > MAX_SOCKET_PATH) return;
    const file = this.settings.directSocket;
    const server = net.createServer((conn) => {
      const ch = new JsonLinesChannel<FromRuntime | { t: 'attach'; w: number }, ToRuntime>(conn);
      ch.onMessage = (m) => {
        if (m.t !== 'attach') return ch.close();
        const w = this.current?.workers.get(m.w);
        if (!w) return ch.close();
        w.attach(ch as JsonLinesChannel<FromRuntime, ToRuntime>);
      };
    });
    this.directServer = server;
    fs.rmSync(file, { force: true });
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(file, () => resolve(true));
    });
    server.on('error', (err) => this.log.warn(`module host direct socket: ${err.message}`));
    if (ok) {
      fs.chmodSync(file, 0o600);
      this.directPath = file;
    }
  }

  private ensure(): Promise<LiveHost> {
    if (this.stopped) return Promise.reject(new CommandError('MODULE_NOT_LOADED', 'the daemon is shutting down'));
    if (this.live && !this.current?.dead) return this.live;
    const now = Date.now();
    this.deaths = this.deaths.filter((t) => now - t < CRASH_LOOP_WINDOW_MS);
    // Backoff: 0 after a first death, then 100 ms doubling to 3.2 s while the host keeps dying.
    const n = this.deaths.length;
    const delay = n <= 1 ? 0 : Math.min(100 * 2 ** (n - 2), 3_200);
    const p = new Promise<void>((r) => setTimeout(r, delay))
      .then(() => this.listenDirect().catch(() => undefined))
      .then(() => this.spawn());
    this.live = p;
    this.current = undefined;
    p.catch(() => {
      if (this.live === p) this.live = undefined;
    });
    return p;
  }

  private spawn(): Promise<LiveHost> {
    if (this.stopped) return Promise.reject(new CommandError('MODULE_NOT_LOADED', 'the daemon is shutting down'));
    const { hostEntry, workerEntry, env, memoryMb } = this.settings;
    const child = spawn(process.execPath, [hostEntry], {
      env: { ...env, CLAUDE_DAEMON_WORKER_ENTRY: workerEntry, CLAUDE_DAEMON_MODULE_MEMORY_MB: String(memoryMb) },
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    const host = new LiveHost(child, new JsonLinesChannel<FromHost, ToHost>(child.stdio[3] as Duplex), this.directPath);
    this.current = host;
    // Output of the host itself (a fatal error, a native crash report, a module writing to fd 1 or 2).
    forEachLine(child.stdout, (line) => this.log.info(`host: ${line}`));
    forEachLine(child.stderr, (line) => this.log.warn(`host: ${line}`));
    host.channel.onMessage = (msg) => {
      if (msg.t === 'hello') hello(msg.pid);
      else if (msg.t === 'from') host.workers.get(msg.w)?.received(msg.m);
      else if (msg.t === 'log') host.workers.get(msg.w)?.onLog(msg.level, msg.line);
      else if (msg.t === 'exit') {
        const w = host.workers.get(msg.w);
        host.workers.delete(msg.w);
        w?.ended(msg);
      }
    };
    // The pipe closing means the host is going (it exits when it sees the same): make sure it is.
    host.channel.onClose = () => {
      if (!host.dead) child.kill('SIGKILL');
    };
    let hello: (pid: number) => void = () => undefined;
    return new Promise<LiveHost>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new CommandError('MODULE_LOAD_FAILED', `the module host process did not start within ${HOST_START_TIMEOUT_MS / 1000} s`));
      }, HOST_START_TIMEOUT_MS);
      hello = (pid) => {
        clearTimeout(timer);
        this.log.debug(`module host process ${pid} started`);
        resolve(host);
      };
      child.on('error', (err) => this.log.warn(`module host process: ${err.message}`));
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        host.dead = true;
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        reject(new CommandError('MODULE_LOAD_FAILED', `the module host process ${how} while starting`));
        const all = [...host.workers.values()];
        if (this.stopped) {
          host.workers.clear();
          for (const w of all) w.ended({ how });
          return;
        }
        this.deaths.push(Date.now());
        const now = Date.now();
        const culprit = [...host.workers.values()].filter((w) => w.open.size > 0 || w.loading).sort((a, b) => b.lastPost - a.lastPost)[0];
        if (culprit) this.blame.set(culprit.key, [...(this.blame.get(culprit.key) ?? []).filter((t) => now - t < CRASH_LOOP_WINDOW_MS), now]);
        for (const [key, times] of this.blame) if (times.every((t) => now - t >= CRASH_LOOP_WINDOW_MS)) this.blame.delete(key);
        this.log.warn(`the module host process ${child.pid} ${how}; ${host.workers.size} module version(s) it held restart from their last good code${culprit ? ` (blamed on ${culprit.key.split('@')[0]}, called last)` : ''}`);
        host.workers.clear();
        for (const w of all) w.ended({ how });
      });
    });
  }
}
