/**
 * One connection's subscription. It first replays what the journal holds after `since_seq` (paced:
 * a batch is written only while the client has taken most of the previous one), then follows live
 * events as the hub flushes them. A live watcher whose unsent bytes pass its budget (it stopped
 * reading) gets a final `overflow` notice and is dropped: the hub never waits for it, and its
 * memory is bounded by the budget plus one flush's lines.
 */
import type { EventLine, EventType, NoticeType } from '../../protocol/events.js';
import type { Journal, JournalLine } from './journal.js';

/** Where a watch writes: the connection's reply writer, as the events domain needs it. */
export interface EventSink {
  /** Writes one encoded line (after any reply being streamed). */
  write(line: string): void;
  /** Bytes written but not yet taken by the client (replies and events). */
  unsent(): number;
  /** Resolves once the client took some of it, the connection closed, or `ms` passed. */
  drained(ms: number): Promise<void>;
  readonly closed: boolean;
}

/** What a watch selects: types (undefined: every emitted type but output) and processes (undefined: all). */
export interface WatchFilter {
  types: ReadonlySet<string>;
  processIds: ReadonlySet<string> | undefined;
}

/** Limits of one watch. */
export interface WatchLimits {
  /** Unsent bytes beyond which a live watcher is dropped with `overflow`. */
  budgetBytes: number;
  /** How long a replay waits for a client that takes nothing before dropping it. */
  stuckMs: number;
}

/** See the file comment. */
export class Watch {
  /** Last seq looked at (delivered or filtered out). */
  private cursor: number;
  private mode: 'replay' | 'live' | 'ended' = 'live';
  /** Seq of the last event written to the client. */
  lastSent: number | null = null;

  constructor(
    private readonly journal: Journal,
    private readonly sink: EventSink,
    private readonly filter: WatchFilter,
    private readonly limits: WatchLimits,
    sinceSeq: number | undefined,
    private readonly onEnd: (w: Watch) => void,
  ) {
    this.cursor = sinceSeq ?? journal.lastSeq;
    if (sinceSeq !== undefined) this.mode = 'replay';
  }

  /** True once the watch ended (unwatch, overflow, connection closed). */
  get ended(): boolean {
    return this.mode === 'ended';
  }

  /** Starts the replay (after the `watch` reply is written). */
  start(): void {
    if (this.mode !== 'replay') return;
    if (this.cursor > this.journal.lastSeq) {
      // Seqs this client saw that the journal does not have: it was reset (or lost).
      this.notice('replay_gap', { from: this.journal.lastSeq + 1, to: this.cursor, since_seq: this.cursor, oldest_seq: this.journal.oldestSeq, reason: 'since_seq is newer than the journal (it was reset or lost)' });
      this.cursor = this.journal.lastSeq;
    }
    void this.replay();
  }

  /** Ends the watch without a notice (unwatch, connection closed). */
  stop(): void {
    this.mode = 'ended';
  }

  /** Live delivery of one flushed batch. */
  deliver(lines: readonly JournalLine[]): void {
    if (this.mode !== 'live') return;
    // One write per watcher per flush, however many lines match (100 watchers: 100 writes a turn).
    let out = '';
    for (const l of lines) {
      if (l.seq <= this.cursor) continue;
      this.cursor = l.seq;
      if (!this.matches(l)) continue;
      out += l.text;
      this.lastSent = l.seq;
    }
    if (out !== '') this.sink.write(out);
    if (this.sink.unsent() > this.limits.budgetBytes) this.overflow('the client did not read its events');
  }

  private async replay(): Promise<void> {
    for (;;) {
      if (this.mode !== 'replay' || this.sink.closed) return;
      const r = this.journal.readAfter(this.cursor);
      if (r.gap) this.notice('replay_gap', { from: r.gap.from, to: r.gap.to, since_seq: r.gap.from - 1, oldest_seq: this.journal.oldestSeq, reason: 'the journal no longer holds these events' });
      if (r.lines.length === 0) {
        if (r.gap) this.cursor = r.gap.to;
        this.mode = 'live'; // Synchronously after finding nothing newer: the next flush is delivered live.
        this.notice('caught_up', { last_seq: this.cursor });
        return;
      }
      for (const l of r.lines) {
        if (l.seq <= this.cursor) continue;
        this.cursor = l.seq;
        if (!this.matches(l)) continue;
        this.send(l);
        if (this.sink.unsent() > this.limits.budgetBytes / 2) {
          const t0 = Date.now();
          while (this.sink.unsent() > this.limits.budgetBytes / 2 && !this.sink.closed && this.mode === 'replay') {
            if (Date.now() - t0 > this.limits.stuckMs) return this.overflow('the client did not read its replayed events');
            await this.sink.drained(Math.min(1000, this.limits.stuckMs));
          }
          if (this.mode !== 'replay' || this.sink.closed) return;
        }
      }
    }
  }

  private matches(l: JournalLine): boolean {
    return this.filter.types.has(l.type) && (this.filter.processIds === undefined || (l.pid !== undefined && this.filter.processIds.has(l.pid)));
  }

  private send(l: JournalLine): void {
    this.sink.write(l.text);
    this.lastSent = l.seq;
  }

  private overflow(why: string): void {
    this.notice('overflow', { reason: `${why}; the watch ended. Watch again with since_seq set to last_seq to resume`, last_seq: this.cursor, unsent_bytes: this.sink.unsent(), budget_bytes: this.limits.budgetBytes });
    this.mode = 'ended';
    this.onEnd(this);
  }

  private notice(type: NoticeType, data: Record<string, unknown>): void {
    const line: EventLine = { event: true, seq: null, time: new Date().toISOString(), type, data };
    this.sink.write(JSON.stringify(line) + '\n');
  }
}

/** The filter a `watch` request asks for. */
export function watchFilter(types: readonly EventType[] | undefined, processIds: readonly string[] | undefined, defaults: readonly string[]): WatchFilter {
  return { types: new Set(types ?? defaults), processIds: processIds === undefined ? undefined : new Set(processIds) };
}
