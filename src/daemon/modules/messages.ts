/**
 * The hand-rolled RPC between the daemon and one module runtime (a worker thread, or a python3 host
 * speaking the same shapes as JSON lines). Id-based, with deadlines kept on the daemon side: a
 * library such as Comlink adds proxy round trips and has no deadlines or cancellation.
 */
import type { ErrorCode } from '../../protocol/errors.js';
import type { ModuleFunction } from '../../protocol/schemas/modules.js';

/** Daemon to runtime. */
export type ToRuntime =
  /** `direct`: a JS worker connects there and then talks to the daemon without the host's relay. */
  | { t: 'load'; url: string; name: string; direct?: { path: string; w: number } }
  /** `parent`: the tracked process the call is made for (lineage; the client reads it as its default parent). */
  | { t: 'call'; id: number; fn: string; args: unknown[]; kwargs?: Record<string, unknown>; parent?: string }
  | { t: 'dispose' };

/** Runtime to daemon. */
export type FromRuntime =
  | { t: 'booted' }
  | { t: 'ready'; functions: ModuleFunction[]; files?: string[] }
  | { t: 'load_error'; message: string }
  | { t: 'result'; id: number; json: string }
  | { t: 'error'; id: number; code: ErrorCode; message: string }
  | { t: 'disposed'; error?: string };
