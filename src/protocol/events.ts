/**
 * The event stream's line format, shared by the daemon, the client and the CLI (no zod here, so the
 * CLI can use it without loading the schemas). An event line is an additive envelope extension: it
 * carries `"event": true` and never an `id` or `success`, so a client that predates events (it
 * matches lines to requests by `id`) ignores it.
 */

/** Types the daemon emits today. `output` only to watchers that ask for it by name. */
export const EMITTED_EVENT_TYPES = [
  'spawned',
  'started',
  'output',
  'killed',
  'ended',
  'removed',
  'claude_state',
  'module_loaded',
  'module_failed',
  'turn_ended',
  'held',
  'released',
] as const;

/**
 * Names kept for what the daemon will emit once the feature exists (permission routing): a watcher
 * may already ask for them; none is emitted yet.
 */
export const RESERVED_EVENT_TYPES = ['permission_asked', 'permission_answered'] as const;

/** Every type a `watch` may filter on. */
export const EVENT_TYPES = [...EMITTED_EVENT_TYPES, ...RESERVED_EVENT_TYPES] as const;

/** One of EVENT_TYPES. */
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * Per-watcher notices, never journaled and carrying `seq: null`: `replay_gap` (the journal no longer
 * holds some of the events asked for), `caught_up` (a `since_seq` replay has reached the newest
 * journaled event; live events follow) and `overflow` (the watcher stopped reading; its watch ended).
 */
export type NoticeType = 'replay_gap' | 'caught_up' | 'overflow';

/** One event line as it travels (and as the journal stores it). */
export interface EventLine {
  event: true;
  /** Journal sequence number: increases by one per event, across daemon restarts. null for notices. */
  seq: number | null;
  /** ISO time the daemon recorded the event. */
  time: string;
  type: EventType | NoticeType;
  /** The process the event is about; absent for module events and notices. */
  process_id?: string;
  data: Record<string, unknown>;
}

/** True for a line that is an event (or notice) rather than a reply. */
export function isEventLine(msg: unknown): msg is EventLine {
  return typeof msg === 'object' && msg !== null && (msg as { event?: unknown }).event === true;
}
