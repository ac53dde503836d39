/**
 * Records waiting for their start time (`start_at` / `start_after_s`): one heap by time and a single
 * timer for the earliest, so 10,000 delayed records cost one timer, not 10,000. A timer firing
 * early (or a delay beyond setTimeout's 24.8-day limit) simply re-arms.
 */
import { Heap } from './heap.js';

/** setTimeout's largest delay. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** See the file comment; `onDue` gets the records whose time has come, earliest first. */
export class StartTimes<T extends { readonly stored: { readonly seq: number } }> {
  private readonly at = new Map<T, number>();
  private readonly heap = new Heap<T>((a, b) => this.time(a) < this.time(b) || (this.time(a) === this.time(b) && a.stored.seq < b.stored.seq));
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;

  constructor(private readonly onDue: (items: T[]) => void) {}

  add(item: T, atMs: number): void {
    if (this.at.has(item)) this.remove(item);
    this.at.set(item, atMs);
    this.heap.push(item);
    this.arm();
  }

  remove(item: T): void {
    if (!this.at.has(item)) return;
    this.heap.remove(item); // before the time is forgotten: the heap's order reads it
    this.at.delete(item);
    this.arm();
  }

  /** Stops the timer (daemon stop). */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private time(item: T): number {
    return this.at.get(item) ?? 0;
  }

  private arm(): void {
    const top = this.heap.peek();
    const at = top === undefined ? Infinity : this.time(top);
    if (at === this.timerAt) return;
    this.stop();
    this.timerAt = at;
    if (at === Infinity) return;
    this.timer = setTimeout(() => this.fire(), Math.min(MAX_TIMER_MS, Math.max(0, at - Date.now()))).unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const due: T[] = [];
    const now = Date.now();
    for (let top = this.heap.peek(); top !== undefined && this.time(top) <= now; top = this.heap.peek()) {
      this.heap.pop();
      this.at.delete(top);
      due.push(top);
    }
    this.arm();
    if (due.length > 0) this.onDue(due);
  }
}
