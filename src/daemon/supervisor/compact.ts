/**
 * Keeps ended records cheap in memory. A record that has ended, whose final version is on disk and
 * that nothing still changes (no lingering leftovers, no pending write), is compacted (entry.ts):
 * its objects become one JSON string, and for a big record (a long claude result) not even that:
 * it is read back from record.json when someone asks. Compaction runs a second after the end, not
 * at once, so the replies to waits woken by the end (which read the record) do not inflate it
 * straight back; an entry inflated later (process_info, claude_result) is compacted again the same way.
 */
import type { Entry } from './entry.js';

/** Longest record text kept in memory; a longer record is read back from disk on demand. */
export const MAX_INLINE_CHARS = 2048;

/** How long after its end (or its last inflation) an entry is compacted. */
const DELAY_MS = 1000;

/** See the file comment; one per supervisor. */
export class Compactor {
  private readonly pending = new Set<Entry>();
  private timer: NodeJS.Timeout | undefined;
  /** Shared by every compacted entry (one function, no closure per entry). */
  private readonly onInflate = (e: Entry): void => this.soon(e);

  constructor(
    /** True when `e` may be compacted now; false to look again next round. */
    private readonly ready: (e: Entry) => 'now' | 'later' | 'never',
    private readonly maxInline = MAX_INLINE_CHARS,
  ) {}

  /** Compacts `e` about a second from now (or later, once it is ready). */
  soon(e: Entry): void {
    this.pending.add(e);
    this.timer ??= setTimeout(() => this.run(), DELAY_MS).unref();
  }

  /** Compacts every ready entry now (tests and benches call it through the supervisor). */
  run(): void {
    this.timer = undefined;
    for (const e of this.pending) {
      const r = this.ready(e);
      if (r === 'later') continue;
      this.pending.delete(e);
      if (r === 'now') e.compact(this.maxInline, this.onInflate);
    }
    if (this.pending.size > 0) this.timer = setTimeout(() => this.run(), DELAY_MS).unref();
  }

  /** Forgets `e` (removed). */
  drop(e: Entry): void {
    this.pending.delete(e);
  }

  /** Stops the timer (daemon stop). */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
