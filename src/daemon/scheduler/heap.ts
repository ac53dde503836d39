/**
 * An indexed binary heap: push, peek, pop and remove of any member in O(log n). The scheduler keeps
 * one per group (ready records by priority, then arrival) and one for start times, so no queue
 * decision scans the queue: with 10,000 queued records a spawn costs what it costs with 10.
 */

/** A min-heap under `before(a, b)` (true when `a` comes out first); members are unique. */
export class Heap<T> {
  private readonly items: T[] = [];
  private readonly pos = new Map<T, number>();

  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  has(x: T): boolean {
    return this.pos.has(x);
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(x: T): void {
    if (this.pos.has(x)) return;
    this.items.push(x);
    this.pos.set(x, this.items.length - 1);
    this.up(this.items.length - 1);
  }

  pop(): T | undefined {
    const top = this.items[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  /** Removes `x` if present; true when it was. */
  remove(x: T): boolean {
    const i = this.pos.get(x);
    if (i === undefined) return false;
    this.pos.delete(x);
    const last = this.items.pop()!;
    if (i < this.items.length) {
      this.items[i] = last;
      this.pos.set(last, i);
      this.down(i);
      this.up(i);
    }
    return true;
  }

  /** Members in no particular order. */
  values(): IterableIterator<T> {
    return this.items.values();
  }

  private up(i: number): void {
    const a = this.items;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(a[i]!, a[p]!)) break;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const a = this.items;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && this.before(a[l]!, a[m]!)) m = l;
      if (r < a.length && this.before(a[r]!, a[m]!)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private swap(i: number, j: number): void {
    const a = this.items;
    const x = a[i]!;
    const y = a[j]!;
    a[i] = y;
    a[j] = x;
    this.pos.set(y, i);
    this.pos.set(x, j);
  }
}
