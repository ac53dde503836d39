/**
 * The scheduler's side of the usage hold (usage-hold.ts): claude runs that could start but are
 * held (phase `held`) wait here, out of their groups' ready heaps, so non-claude records behind
 * them are never blocked. It counts the claude runs running or ready (the ramp limits those) and
 * the held ones per group (`group_list`). A run with `ignore_hold` passes, unless it is a resumption
 * after the limit (that one always waits for the reset).
 */
import type { ProcessRecord } from '../../protocol/schemas/processes.js';
import { DEFAULT_GROUP } from '../../protocol/schemas/scheduling.js';
import { Heap } from './heap.js';
import type { UsageHold } from './usage-hold.js';

/** The held queue's order: priority, then arrival (the scheduler's own). */
type Before<T> = (a: T, b: T) => boolean;

/** See the file comment; one per scheduler. */
export class UsageGate<T extends { readonly record: ProcessRecord }> {
  readonly queue: Heap<T>;
  /** Gated claude records in a ready heap. */
  readonly ready = new Set<T>();
  /**
   * Gated claude records running: a set, not a count, since whether the gate applies can change
   * while a record runs (an `ignore_hold` run that hits the limit is gated from then on).
   */
  readonly running = new Set<T>();
  private readonly perGroup = new Map<string, number>();

  constructor(
    readonly hold: UsageHold,
    before: Before<T>,
  ) {
    this.queue = new Heap<T>(before);
  }

  /** True for the records the hold applies to. */
  applies(rec: ProcessRecord): boolean {
    return rec.claude !== undefined && (rec.ignore_hold !== true || (rec.limit_resumes ?? 0) > 0);
  }

  /** True when a gated record may go to its ready heap now (nothing held is ahead of it). */
  admits(): boolean {
    return this.hold.admits(this.running.size + this.ready.size);
  }

  /** Puts `item` into the held queue. */
  park(item: T): void {
    this.queue.push(item);
    const g = item.record.group ?? DEFAULT_GROUP;
    this.perGroup.set(g, (this.perGroup.get(g) ?? 0) + 1);
  }

  /** Takes `item` out of the held queue (it starts, or was killed). */
  unpark(item: T): void {
    if (!this.queue.remove(item)) return;
    const g = item.record.group ?? DEFAULT_GROUP;
    const n = (this.perGroup.get(g) ?? 1) - 1;
    if (n > 0) this.perGroup.set(g, n);
    else this.perGroup.delete(g);
  }

  /** The next held record to admit, if the hold admits one now. */
  nextAdmitted(): T | undefined {
    if (!this.admits()) return undefined;
    const it = this.queue.peek();
    if (it !== undefined) this.unpark(it);
    return it;
  }

  /** Held records of `group`. */
  heldIn(group: string): number {
    return this.perGroup.get(group) ?? 0;
  }

  /** Why a held record waits. */
  reason(): string {
    return this.hold.reason(this.running.size) ?? 'claude runs held (usage limit)';
  }
}
