/**
 * Running the daemon as this process: signals do what `shutdown` does, and stray errors are logged
 * rather than allowed to kill a daemon that other people's work depends on.
 */
import { resolveConfig, type DaemonOptions } from './config.js';
import { startDaemon, type RunningDaemon } from './daemon.js';

export { StartError } from './socket-file.js';

/** Starts the daemon in this process and wires signals; resolves with the running daemon. */
export async function runDaemon(opts: DaemonOptions): Promise<RunningDaemon> {
  const config = resolveConfig(opts);
  const daemon = await startDaemon(config);
  const { log } = daemon.services;
  const stop = (sig: string) => () => {
    log.info(`received ${sig}`);
    void daemon.shutdown({ killProcesses: false });
  };
  process.on('SIGTERM', stop('SIGTERM'));
  process.on('SIGINT', stop('SIGINT'));
  process.on('SIGHUP', () => log.info('received SIGHUP (ignored)'));
  process.on('SIGPIPE', () => undefined);
  // Node's own warnings go to process.stderr; once its reader is gone that write fails: ignore it
  // (the daemon's log never writes there, see log.ts).
  process.stderr.on('error', () => undefined);
  process.on('uncaughtException', (err) => log.error('uncaught exception (daemon keeps running)', err));
  process.on('unhandledRejection', (err) => log.error('unhandled rejection (daemon keeps running)', err));
  return daemon;
}
