/**
 * Running the daemon as this process: signals do what `shutdown` does, and stray errors are logged
 * rather than allowed to kill a daemon that other people's work depends on. A daemon kept by a
 * keeper (`start --detach`, see keeper.ts) answers the keeper through its exit status.
 */
import { resolveConfig, type DaemonOptions } from './config.js';
import { startDaemon, type RunningDaemon } from './daemon.js';
import { forgetKeeperEnv, KEEPER_EXIT, liveKeeper, tellKeeperServing } from './keeper.js';
import { StartError } from './socket-file.js';
import { holdOptimizingCompilerDuringStart } from './startup-tiering.js';

export { StartError } from './socket-file.js';

/** A daemon running as this process, and the status this process should exit with once it closed. */
export interface ProcessDaemon extends RunningDaemon {
  /**
   * 0 after `shutdown` (a keeper then stops too). A kept daemon stopped by SIGTERM or SIGINT (a
   * stray `pkill node`) returns KEEPER_EXIT.restart, so its keeper starts a new one: only `shutdown`
   * stops a kept daemon for good.
   */
  exitCode(): number;
}

/**
 * Starts the daemon in this process and wires signals; resolves with the running daemon. A
 * StartError thrown while kept carries `exitCode` KEEPER_EXIT.refused: the keeper stops for good.
 */
export async function runDaemon(opts: DaemonOptions): Promise<ProcessDaemon> {
  const releaseTiering = holdOptimizingCompilerDuringStart();
  const config = resolveConfig(opts);
  forgetKeeperEnv(process.env);
  let daemon: RunningDaemon;
  try {
    daemon = await startDaemon(config);
  } catch (err) {
    if (err instanceof StartError && config.keeper !== undefined) Object.assign(err, { exitCode: KEEPER_EXIT.refused });
    throw err;
  } finally {
    releaseTiering();
  }
  const { log } = daemon.services;
  let restart = false;
  const stop = (sig: string) => () => {
    const keeper = liveKeeper(config.keeper);
    if (keeper !== undefined && !daemon.stopping) {
      restart = true;
      log.info(`received ${sig}: stopping; keeper pid ${keeper.pid} starts a new daemon at once (\`claude-daemon shutdown\` stops both for good)`);
    } else {
      log.info(`received ${sig}`);
    }
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
  const k = liveKeeper(config.keeper);
  if (k !== undefined) {
    log.info(`kept by keeper pid ${k.pid}${k.restarts > 0 ? `: restart ${k.restarts}, the previous daemon ended (${k.lastDeath ?? 'unknown'})` : ''}`);
    tellKeeperServing(k);
  }
  return Object.assign(daemon, { exitCode: () => (restart ? KEEPER_EXIT.restart : KEEPER_EXIT.shutdown) });
}
