/**
 * The daemon as an object: start it, serve connections, shut it down. It never calls process.exit:
 * the CLI decides what happens after `closed` resolves, so tests can run a daemon in-process too.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { DaemonConfig } from './config.js';
import { Connection } from './connection.js';
import { createLogger, type Logger } from './log.js';
import type { Services, ShutdownOptions } from './services.js';
import { claimSocketPath, listenPrivately } from './socket-file.js';
import { ensurePrivateDir } from './state-dir.js';
import { createModuleHost } from './modules/index.js';
import { createSupervisor } from './supervisor/index.js';
import { createClaudeRuns } from './claude/index.js';

/** How long shutdown waits for in-flight requests before closing their connections anyway. */
const DRAIN_MS = 5000;

/** A running daemon. */
export interface RunningDaemon {
  readonly services: Services;
  /** Resolves when the daemon has fully stopped (socket removed, children handled). */
  readonly closed: Promise<void>;
  shutdown(opts?: ShutdownOptions): Promise<void>;
}

/** Claims the socket, prepares the state directory, and starts serving. */
export async function startDaemon(config: DaemonConfig): Promise<RunningDaemon> {
  ensurePrivateDir(config.home);
  const log: Logger = createLogger(path.join(config.home, 'daemon.log'), config.logToStderr, { maxBytes: config.logMaxBytes, files: config.logFiles });
  await claimSocketPath(config.socketPath);
  const processes = await createSupervisor(config, log.child('processes'));
  const claude = createClaudeRuns(processes, log.child('claude'));
  const modules = await createModuleHost(config, log.child('modules'));

  const connections = new Set<Connection>();
  const stopHooks: Array<(opts: ShutdownOptions) => Promise<void> | void> = [];
  let shuttingDown: Promise<void> | undefined;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));

  const services: Services = {
    config,
    log,
    startedAt: Date.now(),
    processes,
    claude,
    modules,
    requestShutdown: (opts) => {
      setImmediate(() => void shutdown(opts));
    },
    onStop: (hook) => {
      stopHooks.push(hook);
    },
  };

  services.onStop((opts) => processes.stop(opts));
  services.onStop(() => modules.stop());

  // Half-open: a client may send its requests and shut its sending side (`nc -N`, a script piping
  // a file); the connection still answers every one before closing (see Connection).
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const conn = new Connection(socket, services, () => shuttingDown !== undefined);
    connections.add(conn);
    socket.on('close', () => connections.delete(conn));
  });
  try {
    await listenPrivately(server, config.socketPath);
  } catch (err) {
    await Promise.allSettled([processes.stop({ killProcesses: false }), modules.stop()]);
    log.close();
    throw err;
  }
  // Only after listening: a failure to listen is reported once, by the StartError above.
  server.on('error', (err) => log.error('server error', err));
  log.info(`listening on ${config.socketPath} (pid ${process.pid}, home ${config.home})`);

  async function shutdown(opts: ShutdownOptions = { killProcesses: false }): Promise<void> {
    if (shuttingDown) return shuttingDown;
    shuttingDown = (async () => {
      log.info(`shutting down${opts.killProcesses ? ' (killing processes)' : ''}`);
      server.close();
      // Long waits answer now; quick requests finish normally within the drain window.
      for (const c of connections) c.abortPending();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([...connections].map((c) => c.whenIdle())),
        new Promise((r) => (timer = setTimeout(r, DRAIN_MS))),
      ]);
      clearTimeout(timer);
      for (const c of connections) c.end();
      for (const hook of stopHooks.reverse()) {
        try {
          await hook(opts);
        } catch (err) {
          log.error('error while stopping a subsystem', err);
        }
      }
      removeSocketFile(config.socketPath);
      log.info('stopped');
      log.close();
      resolveClosed();
    })();
    return shuttingDown;
  }

  return { services, closed, shutdown };
}

function removeSocketFile(socketPath: string): void {
  try {
    if (fs.lstatSync(socketPath).isSocket()) fs.unlinkSync(socketPath);
  } catch {
    // Already gone.
  }
}
