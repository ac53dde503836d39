/**
 * The daemon as an object: start it, serve connections, shut it down. It never calls process.exit:
 * the CLI decides what happens after `closed` resolves, so tests can run a daemon in-process too.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { DaemonConfig } from './config.js';
import { Connection } from './connection.js';
import { errorReply } from './dispatch.js';
import { FdBudget } from './fd-budget.js';
import { createLogger, type Logger } from './log.js';
import type { Services, ShutdownOptions } from './services.js';
import { claimSocketPath, listenPrivately } from './socket-file.js';
import { prepareHome } from './state/home.js';
import { acquireStateLock, type StateLock } from './state/lock.js';
import { createModuleHost, type ModuleHost } from './modules/index.js';
import { findWrapper } from './supervisor/launch.js';
import { createSupervisor, type Supervisor } from './supervisor/index.js';
import { createClaudeRuns } from './claude/index.js';
import { createEvents, type Events } from './events/index.js';

/** How long shutdown waits for in-flight requests before closing their connections anyway. */
const DRAIN_MS = 5000;

/** A running daemon. */
export interface RunningDaemon {
  readonly services: Services;
  /** Resolves when the daemon has fully stopped (socket removed, children handled). */
  readonly closed: Promise<void>;
  /** True once a shutdown has begun (by `shutdown` or a signal). */
  readonly stopping: boolean;
  shutdown(opts?: ShutdownOptions): Promise<void>;
}

/** Claims the socket, prepares the state directory, and starts serving. */
export async function startDaemon(requested: DaemonConfig): Promise<RunningDaemon> {
  // Resolved once: every path from here on is built on the real directory (state/home.ts).
  const config: DaemonConfig = { ...requested, home: prepareHome(requested.home) };
  // Before anything in the state directory is read or written, and held for the daemon's life.
  const lock = acquireStateLock(config.home, config.socketPath, findWrapper());
  let log: Logger | undefined;
  let processes: Supervisor | undefined;
  let modules: ModuleHost | undefined;
  try {
    log = createLogger(path.join(config.home, 'daemon.log'), config.logToStderr, { maxBytes: config.logMaxBytes, files: config.logFiles });
    await claimSocketPath(config.socketPath);
    processes = await createSupervisor(config, log.child('processes'), { deferQueue: true });
    modules = await createModuleHost(config, log.child('modules'));
  } catch (err) {
    await Promise.allSettled([processes?.stop({ killProcesses: false }), modules?.stop()]);
    log?.close();
    lock.release();
    throw err;
  }
  return serve(config, lock, log, processes, modules);
}

/** The serving half of startDaemon, once the lock is held and the subsystems are up. */
async function serve(config: DaemonConfig, lock: StateLock, log: Logger, processes: Supervisor, modules: ModuleHost): Promise<RunningDaemon> {
  const claude = createClaudeRuns(processes, log.child('claude'));
  let events: Events;
  try {
    events = createEvents(config, log.child('events'), processes, modules, claude.live);
  } catch (err) {
    await Promise.allSettled([processes.stop({ killProcesses: false }), modules.stop()]);
    log.close();
    lock.release();
    throw err;
  }
  // After the claude observer subscribed: an `ended` it re-derives carries its verdict.
  events.reconcile();

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
    events: events.hub,
    requestShutdown: (opts) => {
      setImmediate(() => void shutdown(opts));
    },
    onStop: (hook) => {
      stopHooks.push(hook);
    },
  };

  // Registered first, so it runs last: the ends a `kill_processes` shutdown causes are journaled.
  services.onStop(() => events.stop());
  services.onStop((opts) => processes.stop(opts));
  services.onStop(() => modules.stop());

  // Half-open: a client may send its requests and shut its sending side (`nc -N`, a script piping
  // a file); the connection still answers every one before closing (see Connection).
  const budget = new FdBudget();
  let refusedAt = 0;
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    // Over the descriptor budget: told why and closed, so files and spawns keep a descriptor.
    if (!budget.admits(connections.size + 1)) {
      if (Date.now() - refusedAt > 10_000) log.warn(`refusing connections: fewer than ${budget.reserve} of ${budget.limit} file descriptors free (${connections.size} connections open)`);
      refusedAt = Date.now();
      refuse(socket);
      return;
    }
    const conn = new Connection(socket, services, () => shuttingDown !== undefined);
    connections.add(conn);
    socket.on('close', () => connections.delete(conn));
  });
  try {
    await listenPrivately(server, config.socketPath);
  } catch (err) {
    await Promise.allSettled([processes.stop({ killProcesses: false }), modules.stop()]);
    log.close();
    lock.release();
    throw err;
  }
  // Queued work starts only now that this daemon serves (a daemon that failed to start ran nothing).
  processes.openQueue();
  // Only after listening: a failure to listen is reported once, by the StartError above.
  // EMFILE at accept: libuv closes the pending connections itself (it keeps a spare descriptor for
  // that) and retries on the next one, so nothing spins; log it once in a while, not per client.
  let acceptErrorAt = 0;
  server.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EMFILE' && err.code !== 'ENFILE') return log.error('server error', err);
    if (Date.now() - acceptErrorAt > 10_000) log.warn(`cannot accept connections: ${err.message}`);
    acceptErrorAt = Date.now();
  });
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
      lock.release();
      resolveClosed();
    })();
    return shuttingDown;
  }

  return {
    services,
    closed,
    get stopping() {
      return shuttingDown !== undefined;
    },
    shutdown,
  };
}

/**
 * Sends RESOURCE_EXHAUSTED (no id) and closes once the client has hung up (it reads the line and
 * goes), or after 1 s at most, since the point is to give the descriptor back. Not as soon as the
 * client has spoken: a client still writing its requests would get EPIPE instead of the line.
 * What it sends meanwhile is read and dropped, so closing never resets the line away.
 */
function refuse(socket: net.Socket): void {
  const reply = errorReply('RESOURCE_EXHAUSTED', 'the daemon is out of file descriptors (too many connections); close some connections and retry');
  const close = (): void => void socket.destroy();
  socket.on('error', () => undefined);
  socket.on('data', () => undefined);
  socket.on('end', close);
  socket.end(JSON.stringify(reply) + '\n');
  setTimeout(close, 1000).unref();
}

function removeSocketFile(socketPath: string): void {
  try {
    if (fs.lstatSync(socketPath).isSocket()) fs.unlinkSync(socketPath);
  } catch {
    // Already gone.
  }
}
