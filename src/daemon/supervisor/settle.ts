/**
 * Keeps ended records cheap in memory, without changing how they are held (plain objects, so
 * `list_processes` costs what it always did). A record that has ended, whose final version is on
 * disk and that nothing still changes (no lingering leftovers, no pending write), is settled once
 * (supervisor.ts `settle`): the tables it needed while alive are dropped, and slimmers registered by
 * a domain cut bulky parts that record.json holds (a claude run's long result; replies read it back).
 * Settling runs a second after the end, not at once, so the replies to the waits woken by the end
 * are served from memory.
 */
import type { Entry } from './entry.js';

/** How long after its end an entry is settled. */
const DELAY_MS = 1000;

/** See the file comment; one per supervisor. */
export class Settler {
  private readonly pending = new Set<Entry>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** Settles `e` if it may be now: 'later' to look again next round, 'done' (or 'never') to forget it. */
    private readonly settle: (e: Entry) => 'done' | 'later' | 'never',
  ) {}

  /** Settles `e` about a second from now (or later, once it is ready). */
  soon(e: Entry): void {
    this.pending.add(e);
    this.timer ??= setTimeout(() => this.run(), DELAY_MS).unref();
  }

  /** Settles every ready entry now (tests and benches call it through the supervisor). */
  run(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const e of this.pending) if (this.settle(e) !== 'later') this.pending.delete(e);
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
