/**
 * The event hub: domains call `emit` (through their hooks, feeds.ts); events of one event-loop turn
 * are numbered, encoded once, appended to the journal in one write and then handed to every live
 * watch, at the end of that turn (setImmediate), so a burst of 100 ends costs one file write and
 * a watcher hears of an end within a turn. The data of an event may be a function, called at flush
 * time, so it sees what other hooks of the same turn added (the claude observer's verdict).
 */
import { EMITTED_EVENT_TYPES, type EventType } from '../../protocol/events.js';
import type { UnwatchResult, WatchResult } from '../../protocol/schemas/events.js';
import type { ParamsOut } from '../../protocol/commands.js';
import type { Logger } from '../log.js';
import type { Journal, JournalLine } from './journal.js';
import { Watch, watchFilter, type EventSink, type WatchLimits } from './watch.js';

/** Types a watch without `types` receives: all that are emitted, except the chatty `output`. */
export const DEFAULT_WATCH_TYPES: readonly string[] = EMITTED_EVENT_TYPES.filter((t) => t !== 'output');

interface Pending {
  type: EventType;
  processId: string | undefined;
  data: Record<string, unknown> | (() => Record<string, unknown>);
  time: number;
}

/** One connection's side of the hub: at most one watch at a time. */
export interface Subscriber {
  /** Starts (or replaces) the connection's watch; events begin once `begin` runs (after the reply is written). */
  watch(params: ParamsOut<'watch'>, begin: (start: () => void) => void): WatchResult;
  unwatch(): UnwatchResult;
  /** The connection closed. */
  close(): void;
}

/** See the file comment; one per daemon. */
export class EventHub {
  private pending: Pending[] = [];
  private scheduled = false;
  private readonly watches = new Set<Watch>();
  /** Called when the set of watches asking for `output` changes (the output poller starts or stops). */
  onOutputInterest: (filters: ReadonlyArray<ReadonlySet<string> | undefined>) => void = () => undefined;
  private readonly outputFilters = new Map<Watch, ReadonlySet<string> | undefined>();

  constructor(
    readonly journal: Journal,
    private readonly log: Logger,
    private readonly limits: WatchLimits,
  ) {}

  /** Records an event; it is numbered, journaled and delivered at the end of this turn. */
  emit(type: EventType, processId: string | undefined, data: Pending['data']): void {
    this.pending.push({ type, processId, data, time: Date.now() });
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Numbers, journals and delivers what is pending (also at daemon stop). */
  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const lines: JournalLine[] = [];
    for (const p of batch) {
      let data: Record<string, unknown>;
      try {
        data = typeof p.data === 'function' ? p.data() : p.data;
      } catch (err) {
        this.log.error(`building a ${p.type} event`, err);
        continue;
      }
      const seq = this.journal.lastSeq + 1;
      // Key order matters: the journal reads seq, type and process_id back by position (journal.ts).
      const head = `{"event":true,"seq":${seq},"time":"${new Date(p.time).toISOString()}","type":"${p.type}"`;
      const text = `${head}${p.processId !== undefined ? `,"process_id":${JSON.stringify(p.processId)}` : ''},"data":${JSON.stringify(data)}}\n`;
      this.journal.lastSeq = seq;
      lines.push({ seq, type: p.type, pid: p.processId, text });
    }
    // Journaled first: an event a watcher saw is in the journal, whatever happens to the daemon next.
    try {
      this.journal.append(lines);
    } catch (err) {
      // Runs in a timer: nothing may throw out of here. The events are still delivered (and ringed).
      this.log.error('appending to the event journal', err);
    }
    for (const w of this.watches) w.deliver(lines);
  }

  /** A new connection's subscriber. */
  subscriber(sink: EventSink): Subscriber {
    let current: Watch | undefined;
    const end = (): void => {
      if (current === undefined) return;
      current.stop();
      this.drop(current);
    };
    return {
      watch: (params, begin) => {
        const replaced = current !== undefined && !current.ended;
        end();
        // Events of this turn not yet flushed get seqs after last_seq: a live watch sees them.
        const last = this.journal.lastSeq;
        const filter = watchFilter(params.types, params.process_ids, DEFAULT_WATCH_TYPES);
        const w = new Watch(this.journal, sink, filter, this.limits, params.since_seq, (x) => this.drop(x));
        current = w;
        this.watches.add(w);
        if (filter.types.has('output')) {
          this.outputFilters.set(w, filter.processIds);
          this.onOutputInterest([...this.outputFilters.values()]);
        }
        begin(() => w.start());
        return { watching: true, last_seq: last, oldest_seq: this.journal.oldestSeq, replaced };
      },
      unwatch: () => {
        const was = current !== undefined && !current.ended;
        const last = current?.lastSent ?? null;
        end();
        current = undefined;
        return { unwatched: was, last_seq: last };
      },
      close: end,
    };
  }

  /** Number of watches (for tests and diagnostics). */
  get watchCount(): number {
    return this.watches.size;
  }

  private drop(w: Watch): void {
    this.watches.delete(w);
    if (this.outputFilters.delete(w)) this.onOutputInterest([...this.outputFilters.values()]);
  }
}
