/**
 * What handlers can reach: the daemon's configuration, its log and its subsystems. Passed to every
 * handler instead of living in module-level globals, so tests and a second daemon in one process
 * never share state.
 */
import type { DaemonConfig } from './config.js';
import type { Logger } from './log.js';
import type { ClaudeRuns } from './claude/index.js';
import type { EventHub } from './events/index.js';
import type { ModuleHost } from './modules/index.js';
import type { Supervisor } from './supervisor/index.js';

/** Options of a shutdown, from the `shutdown` command or a signal. */
export interface ShutdownOptions {
  killProcesses: boolean;
}

/** The daemon's subsystems as handlers see them. */
export interface Services {
  readonly config: DaemonConfig;
  readonly log: Logger;
  readonly startedAt: number;
  /** Children: spawn, track, kill, re-adopt. */
  readonly processes: Supervisor;
  /** The claude observer on top of `processes`: parsed runs, session locks, the SIGINT ladder. */
  readonly claude: ClaudeRuns;
  /** The agent's hot-reloaded modules. */
  readonly modules: ModuleHost;
  /** The event journal and its watchers (`watch`/`unwatch`). */
  readonly events: EventHub;
  /** Starts a graceful shutdown after the current reply has been written. */
  requestShutdown(opts: ShutdownOptions): void;
  /** Registers work to do at shutdown, after connections drain; run in reverse order of registration. */
  onStop(hook: (opts: ShutdownOptions) => Promise<void> | void): void;
}
