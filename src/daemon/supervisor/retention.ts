/**
 * Which ended records the daemon keeps. Every ended record is indexed in order of its end, so the
 * retention limits (at most `maxCount` ended records, none ended more than `maxAgeMs` ago) are
 * applied from the oldest end on, in O(1) per end: the count limit drops the head when one more
 * ends, and one timer set for the head's expiry handles age. `clean` reuses the same index.
 */

/** The retention limits; 0 (or Infinity) means that limit is off. */
export interface Retention {
  /** Most ended records kept (oldest removed first); default DEFAULT_KEEP_ENDED. */
  maxCount: number;
  /** Ended records older than this many ms are removed; default DEFAULT_KEEP_ENDED_FOR_S. */
  maxAgeMs: number;
}

/** Default count limit: 10,000 ended records (~1 kB each in memory once settled: ~10 MiB at most). */
export const DEFAULT_KEEP_ENDED = 10_000;
/** Default age limit: 7 days. */
export const DEFAULT_KEEP_ENDED_FOR_S = 7 * 86_400;

/** The longest a Node timer may wait. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** See the file comment; one per supervisor. */
export class EndedIndex {
  /** id -> end time (ms), in order of end (Map insertion order). */
  private readonly order = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly retention: Retention,
    /** Removes a record the limits expired; false when it cannot be removed now (kept, retried later). */
    private readonly expire: (id: string) => boolean,
  ) {}

  /** Notes that `id` has ended at `endedMs`, then applies the limits. */
  add(id: string, endedMs: number): void {
    this.order.delete(id);
    this.order.set(id, endedMs);
    this.apply();
  }

  /** Forgets `id` (removed). */
  delete(id: string): void {
    this.order.delete(id);
  }

  /** Replaces the index with `ended` (at start: every restored ended record), then applies the limits. */
  reset(ended: { id: string; endedMs: number }[]): void {
    this.order.clear();
    for (const r of ended.sort((a, b) => a.endedMs - b.endedMs)) this.order.set(r.id, r.endedMs);
    this.apply();
  }

  /** Ended ids, oldest end first, with their end times. */
  entries(): IterableIterator<[string, number]> {
    return this.order.entries();
  }

  get size(): number {
    return this.order.size;
  }

  /** Stops the age timer (daemon stop). */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * Removes from the head while over the count or past the age. A head that cannot go now (its
   * leftover processes still run) is moved to the tail, at most once per call, so the rest still go.
   */
  private apply(): void {
    const maxCount = this.retention.maxCount > 0 ? this.retention.maxCount : Infinity;
    const maxAge = this.retention.maxAgeMs > 0 ? this.retention.maxAgeMs : Infinity;
    const now = Date.now();
    let skips = this.order.size;
    for (const [id, at] of this.order) {
      if (this.order.size <= maxCount && now - at <= maxAge) break;
      this.order.delete(id);
      if (!this.expire(id)) {
        this.order.set(id, at);
        if (--skips <= 0) break;
      }
    }
    this.armAge(maxAge, now);
  }

  private armAge(maxAge: number, now: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (!Number.isFinite(maxAge)) return;
    const head = this.order.values().next();
    if (head.done === true) return;
    const wait = Math.min(MAX_TIMER_MS, Math.max(1000, head.value + maxAge - now + 1));
    this.timer = setTimeout(() => this.apply(), wait).unref();
  }
}
