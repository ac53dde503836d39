/** Parameters and results of `watch` and `unwatch` (the event stream; see docs/protocol.md). */
import { z } from 'zod';
import { EVENT_TYPES } from '../events.js';
import { ProcessId } from './processes.js';

/**
 * `watch`: from now on (or, with `since_seq`, from the first journaled event after it) this
 * connection receives matching events. `types` absent means every emitted type but `output`.
 */
export const WatchParams = z.object({
  since_seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  process_ids: z.array(ProcessId).min(1).max(10_000).optional(),
  types: z.array(z.enum(EVENT_TYPES)).min(1).optional(),
});

/** `unwatch` takes nothing. */
export const UnwatchParams = z.object({});

/** What `watch` replies before any event of the subscription is written. */
export interface WatchResult {
  watching: true;
  /** The newest journaled seq when the watch began (0 for an empty journal). */
  last_seq: number;
  /** The oldest seq the journal still holds (last_seq + 1 when it is empty). */
  oldest_seq: number;
  /** True when this replaced an earlier watch of the same connection. */
  replaced: boolean;
}

/** `unwatch`: after its reply no event line follows. */
export interface UnwatchResult {
  /** False when the connection was not watching. */
  unwatched: boolean;
  /** The seq of the last event written to this connection (null if none). */
  last_seq: number | null;
}

/** Spread into the command table. */
export const EVENT_SCHEMAS = {
  watch: WatchParams,
  unwatch: UnwatchParams,
} as const;

/** Results of the event commands. */
export interface EventResults {
  watch: WatchResult;
  unwatch: UnwatchResult;
}
