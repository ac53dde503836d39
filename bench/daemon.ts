/**
 * One way for the benches to start and stop a daemon of this checkout (dist/bin.js): its own
 * socket and home under the bench's temp dir, quiet, answering a ping before it is handed over.
 * Benches measure the daemon a user runs, so it is started the way a user starts it (`start`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type DaemonClient } from '../src/index.js';

/** The CLI entry of this checkout's build. */
export const BIN = path.join(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..'), 'dist', 'bin.js');

/** A daemon started for a bench. */
export interface BenchDaemon {
  proc: ChildProcess;
  client: DaemonClient;
  socket: string;
}

/** Starts `start --socket TMP/NAME.sock --home TMP/NAME [args]` and waits until it answers a ping. */
export async function startBenchDaemon(tmp: string, name: string, opts: { env?: NodeJS.ProcessEnv; args?: string[] } = {}): Promise<BenchDaemon> {
  const socket = path.join(tmp, `${name}.sock`);
  const proc = spawn(process.execPath, [BIN, 'start', '--socket', socket, '--home', path.join(tmp, name), ...(opts.args ?? [])], {
    stdio: 'ignore',
    env: { ...process.env, CLAUDE_DAEMON_QUIET: '1', ...opts.env },
  });
  for (let i = 0; ; i++) {
    try {
      const client = await connect({ socketPath: socket, connectTimeoutMs: 500 });
      await client.ping();
      return { proc, client, socket };
    } catch {
      if (i > 300) throw new Error(`bench daemon ${name} did not start`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** Shuts it down (its processes killed) and waits for its exit. */
export async function stopBenchDaemon(d: BenchDaemon): Promise<void> {
  const exited = new Promise((r) => d.proc.once('exit', r));
  await d.client.shutdown({ kill_processes: true });
  d.client.close();
  await exited;
}
