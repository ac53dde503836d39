/**
 * The events domain's entry: the journal in the state directory, the hub that numbers and delivers
 * events, and the feeds from the supervisor and the module host. Connections reach it through
 * `Services.events` (one Subscriber each); nothing else in the daemon depends on it.
 */
import type { LiveSessions } from '../claude/live.js';
import type { DaemonConfig } from '../config.js';
import type { Logger } from '../log.js';
import type { ModuleHost } from '../modules/index.js';
import type { Supervisor } from '../supervisor/index.js';
import { feedEvents } from './feeds.js';
import { EventHub } from './hub.js';
import { DEFAULT_JOURNAL_LIMITS, Journal } from './journal.js';

export { EventHub, type Subscriber } from './hub.js';
export type { EventSink } from './watch.js';

/**
 * Hidden tuning knobs (environment only; tests shrink them): the unsent bytes past which a watcher
 * is dropped with `overflow` (default 4 MiB), and the events per journal segment (default 6,250;
 * the journal keeps 8 segments).
 */
export const EVENT_BUDGET_ENV = 'CLAUDE_DAEMON_EVENT_BUDGET_BYTES';
/** See EVENT_BUDGET_ENV. */
export const JOURNAL_SEGMENT_EVENTS_ENV = 'CLAUDE_DAEMON_JOURNAL_SEGMENT_EVENTS';

/** Benchmarks only (bench/events.bench.ts measures the journal's cost against it): `1` records no events. */
export const EVENTS_OFF_ENV = 'CLAUDE_DAEMON_EVENTS_OFF';

/** Default unsent bytes per watcher before it is dropped. */
export const DEFAULT_EVENT_BUDGET_BYTES = 4 * 1024 * 1024;

/** The running events domain. */
export interface Events {
  readonly hub: EventHub;
  /** Emits what the restored records say happened that the journal does not (call once the other hooks are in place). */
  reconcile(): void;
  /** Daemon stop: flushes what is pending and closes the journal. */
  stop(): void;
}

/** Opens the journal and subscribes to the domains (`live`: the claude runs' live sessions, for `turn_ended`). */
export function createEvents(config: DaemonConfig, log: Logger, sup: Supervisor, modules: ModuleHost, live?: LiveSessions, env: NodeJS.ProcessEnv = process.env): Events {
  const segmentEvents = intEnv(env, JOURNAL_SEGMENT_EVENTS_ENV) ?? DEFAULT_JOURNAL_LIMITS.segmentEvents;
  const journal = new Journal(config.home, log, { ...DEFAULT_JOURNAL_LIMITS, segmentEvents });
  const hub = new EventHub(journal, log, { budgetBytes: intEnv(env, EVENT_BUDGET_ENV) ?? DEFAULT_EVENT_BUDGET_BYTES, stuckMs: config.stuckClientMs });
  const off = env[EVENTS_OFF_ENV] === '1';
  if (off) log.warn(`${EVENTS_OFF_ENV}=1: no events are recorded (a benchmark's floor)`);
  const feeds = off ? { reconcile: () => undefined, stop: () => undefined } : feedEvents(hub, sup, modules, log, live);
  return {
    hub,
    reconcile: () => feeds.reconcile(),
    stop: () => {
      feeds.stop();
      hub.flush();
      journal.close();
    },
  };
}

function intEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const n = Number(env[name] ?? '');
  return Number.isInteger(n) && n > 0 ? n : undefined;
}
