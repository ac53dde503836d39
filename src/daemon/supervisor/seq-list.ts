/**
 * A list of entries kept sorted by creation sequence, for the record index (record-index.ts): new
 * records come last (an append), and a cursor is a binary search.
 */
import type { Entry } from './entry.js';

/** Entries sorted by seq; appends are O(1), other inserts and removals a binary search and a splice. */
export class SeqList {
  readonly items: Entry[] = [];

  insert(e: Entry): void {
    const a = this.items;
    if (a.length === 0 || a[a.length - 1]!.seq < e.seq) a.push(e);
    else a.splice(this.after(e.seq - 1), 0, e);
  }

  remove(e: Entry): void {
    const a = this.items;
    for (let i = this.after(e.seq - 1); i < a.length && a[i]!.seq <= e.seq; i++) {
      if (a[i] === e) {
        a.splice(i, 1);
        return;
      }
    }
    // Not where its seq says (never happens unless a seq changed): look everywhere.
    const i = a.indexOf(e);
    if (i >= 0) a.splice(i, 1);
  }

  /** Index of the first entry whose seq is greater than `seq`. */
  after(seq: number): number {
    const a = this.items;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid]!.seq <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
