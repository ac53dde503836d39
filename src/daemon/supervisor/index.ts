/**
 * The process supervisor's entry (filled in by the process-supervision issue): creates the
 * supervisor, which re-adopts surviving children before the daemon starts serving.
 */
import type { DaemonConfig } from '../config.js';
import type { Logger } from '../log.js';
import type { ShutdownOptions } from '../services.js';

/** The supervisor as the rest of the daemon sees it. */
export interface Supervisor {
  /** At daemon shutdown: leave children running, or kill them when asked. */
  stop(opts: ShutdownOptions): Promise<void>;
}

/** Creates the supervisor for this daemon's state directory. */
export async function createSupervisor(_config: DaemonConfig, _log: Logger): Promise<Supervisor> {
  return { stop: async () => undefined };
}
