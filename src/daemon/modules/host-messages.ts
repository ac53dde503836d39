/**
 * The wire between the daemon and its module host process (host-entry.ts), over a pipe
 * (the child's descriptor 3, JSON Lines: host-channel.ts). The host only multiplexes: each module version's worker thread has an id `w` chosen
 * by the daemon, and the version's own messages (messages.ts) travel inside `m` unchanged, so the
 * RPC bookkeeping (ids, deadlines, failing pending calls) stays in the daemon (runtime.ts).
 */
import type { FromRuntime, ToRuntime } from './messages.js';

/** Daemon to host. */
export type ToHost =
  /** Take a booted worker for a new version (memory cap and env are the host's, from its start). */
  | { t: 'open'; w: number }
  | { t: 'to'; w: number; m: ToRuntime }
  | { t: 'terminate'; w: number }
  /** Daemon shutdown: end every worker and exit. */
  | { t: 'exit' };

/** Why a worker thread ended, as far as the host saw it. */
export interface WorkerExit {
  code: number;
  /** The uncaught error or resource-limit error that ended it, if any. */
  error?: { name: string; message: string; code?: string };
}

/** Host to daemon. */
export type FromHost =
  | { t: 'hello'; pid: number }
  | { t: 'from'; w: number; m: FromRuntime }
  | { t: 'log'; w: number; level: 'info' | 'warn'; line: string }
  | ({ t: 'exit'; w: number } & WorkerExit);
