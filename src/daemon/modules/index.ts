/**
 * The module host's entry (filled in by the modules issue): loads, reloads and calls the agent's
 * modules in isolated workers.
 */
import type { DaemonConfig } from '../config.js';
import type { Logger } from '../log.js';

/** The module host as the rest of the daemon sees it. */
export interface ModuleHost {
  /** At daemon shutdown: dispose and terminate every module version. */
  stop(): Promise<void>;
}

/** Creates the module host for this daemon's modules directory. */
export async function createModuleHost(_config: DaemonConfig, _log: Logger): Promise<ModuleHost> {
  return { stop: async () => undefined };
}
