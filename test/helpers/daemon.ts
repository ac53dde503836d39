/**
 * A real daemon per test file: its own temp directory, socket, state and modules directories, run as
 * a real process from the built CLI (dist/bin.js), exactly as a user would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type DaemonClient } from '../../src/index.js';
import { waitFor } from './wait.js';

/** Repository root and the built CLI every test runs. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.join(ROOT, 'dist', 'bin.js');
export const FIXTURES = path.join(ROOT, 'test', 'fixtures');

/** A running test daemon and handles to drive it. */
export interface TestDaemon {
  dir: string;
  socket: string;
  home: string;
  modulesDir: string;
  proc: ChildProcess;
  /** stderr of the daemon so far (its log). */
  log(): string;
  client(): Promise<DaemonClient>;
  /** Runs the CLI against this daemon. */
  cli(args: string[], opts?: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number }): Promise<CliResult>;
  /** Graceful stop via `shutdown` (optionally killing its processes); resolves when the process has exited. */
  stop(opts?: { killProcesses?: boolean }): Promise<void>;
  /** Kills the daemon process with a signal and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts a new daemon on the same socket and state (after stop/kill). */
  restart(): Promise<void>;
}

/** Outcome of one CLI invocation. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Options for a test daemon. */
export interface StartOpts {
  args?: string[];
  env?: NodeJS.ProcessEnv;
  dir?: string;
  /** Start the daemon under `ulimit ARGS` (e.g. `-n 64`: soft and hard descriptor limits), through `sh -c ... exec`. */
  ulimit?: string;
}

/** Temp dirs this process created for daemons: removed when it exits (their daemons are stopped by then). */
const createdDirs: string[] = [];
process.once('exit', () => {
  for (const dir of createdDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh temp dir named `PREFIX…`, removed when this test process exits (tests leave no file behind). */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  createdDirs.push(dir);
  return dir;
}

/** Starts a daemon in a fresh temp dir and waits until it answers ping. */
export async function startTestDaemon(opts: StartOpts = {}): Promise<TestDaemon> {
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'cd-test-'));
  if (opts.dir === undefined) createdDirs.push(dir);
  const socket = path.join(dir, 'daemon.sock');
  const home = path.join(dir, 'home');
  const modulesDir = path.join(dir, 'modules');
  fs.mkdirSync(modulesDir, { recursive: true });
  let proc!: ChildProcess;
  let stderr = '';
  const clients: DaemonClient[] = [];

  const launch = async (): Promise<void> => {
    stderr = '';
    const argv = [BIN, 'start', '--socket', socket, '--home', home, '--modules-dir', modulesDir, ...(opts.args ?? [])];
    // `exec` keeps the pid: proc.pid is the daemon's own.
    const [file, args] = opts.ulimit === undefined ? [process.execPath, argv] : ['sh', ['-c', `ulimit ${opts.ulimit} && exec "$0" "$@"`, process.execPath, ...argv]];
    proc = spawn(file, args, {
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (d: string) => (stderr += d));
    await waitFor(
      async () => {
        if (proc.exitCode !== null) throw new Error(`daemon exited ${proc.exitCode}: ${stderr}`);
        return pingOnce(socket);
      },
      { what: 'daemon to answer ping', timeoutMs: 15_000 },
    );
  };
  await launch();

  const exited = (): Promise<void> => (proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise((r) => proc.once('exit', () => r())));

  return {
    dir,
    socket,
    home,
    modulesDir,
    get proc() {
      return proc;
    },
    log: () => stderr,
    async client() {
      const c = await connect({ socketPath: socket });
      clients.push(c);
      return c;
    },
    cli: (args, o = {}) => runCli([...args, '--socket', socket], o),
    async stop(o = {}) {
      for (const c of clients.splice(0)) c.close();
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const done = exited();
      try {
        const c = await connect({ socketPath: socket });
        await c.shutdown(o.killProcesses === true ? { kill_processes: true } : {}).catch(() => undefined);
        c.close();
      } catch {
        proc.kill('SIGKILL');
      }
      await done;
    },
    async kill(signal = 'SIGKILL') {
      for (const c of clients.splice(0)) c.close();
      const done = exited();
      proc.kill(signal);
      await done;
    },
    restart: launch,
  };
}

/** Runs `node dist/bin.js ARGS` and collects its output. */
export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`CLI ${args.join(' ')} timed out; stdout=${stdout} stderr=${stderr}`));
    }, opts.timeoutMs ?? 30_000);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    p.stdin.end(opts.input ?? '');
  });
}

/** One raw ping over a fresh connection; true when the daemon answered. */
export function pingOnce(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createConnection(socket);
    const t = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, 2000);
    s.on('error', () => {
      clearTimeout(t);
      resolve(false);
    });
    s.on('connect', () => s.write('{"command":"ping"}\n'));
    s.on('data', (d) => {
      clearTimeout(t);
      s.destroy();
      resolve(d.toString().includes('"pong":true'));
    });
  });
}
