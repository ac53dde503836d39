/**
 * Every record the supervisor holds, indexed so that `list_processes` costs what it returns, not
 * what the daemon holds: a Map by id (the API the supervisor always used), one array of all entries
 * and one per status, each sorted by creation sequence (oldest first, binary-searchable by cursor),
 * and totals kept up to date as records come, change status and go (counts per status, and the sums
 * of the domains' TotalsContributors). Status changes must go through `setStatus`.
 */
import type { ProcessRecord, ProcessStatus } from '../../protocol/schemas/processes.js';
import type { Entry } from './entry.js';
import { SeqList } from './seq-list.js';

/**
 * The figures one record adds to `list_processes` totals (the claude domain: its
 * `total_cost_usd`), or undefined for none. A key shows in the totals while at least one record
 * gives it. Called again whenever the record may have changed (updateClaude, a status change).
 */
export type TotalsContributor = (rec: ProcessRecord) => Record<string, number> | undefined;

/** Statuses always present in totals (others only while some record has them). */
const BASE_STATUSES: readonly ProcessStatus[] = ['queued', 'running', 'exited', 'killed', 'failed', 'lost'];

/** Sums are kept in integer units of 1e-9 so that adding and taking away is exact. */
const UNIT = 1e9;

/** See the file comment; one per supervisor. */
export class RecordIndex {
  private readonly map = new Map<string, Entry>();
  private readonly all = new SeqList();
  private readonly byStatus = new Map<ProcessStatus, SeqList>();
  /** Each indexed entry's status as indexed (the list it sits in). */
  private readonly indexed = new Map<Entry, ProcessStatus>();
  private readonly contributors: TotalsContributor[] = [];
  /** What each non-running entry adds now (running ones are asked at every totals()). */
  private readonly parts = new Map<Entry, Record<string, number>>();
  /** Per key: sum in units of 1/UNIT, and how many records give it. */
  private readonly sums = new Map<string, { units: number; n: number }>();

  get size(): number {
    return this.map.size;
  }

  get(id: string): Entry | undefined {
    return this.map.get(id);
  }

  has(id: string): boolean {
    return this.map.has(id);
  }

  /** Entries in order of creation (seq). */
  values(): IterableIterator<Entry> {
    return this.all.items.values();
  }

  /** Adds (or replaces) the entry for `id`. */
  set(id: string, e: Entry): this {
    const old = this.map.get(id);
    if (old !== undefined) this.drop(old);
    this.map.set(id, e);
    this.all.insert(e);
    this.place(e, e.record.status);
    return this;
  }

  delete(id: string): boolean {
    const e = this.map.get(id);
    if (e === undefined) return false;
    this.map.delete(id);
    this.drop(e);
    return true;
  }

  /** Changes `e`'s status, keeping the indexes and totals right (also for an entry not indexed). */
  setStatus(e: Entry, status: ProcessStatus): void {
    const at = this.indexed.get(e);
    e.record.status = status;
    if (at === undefined) return;
    if (at !== status) {
      this.unplace(e, at);
      this.place(e, status);
    } else this.recount(e);
  }

  /** `e`'s record changed (the claude object): its contribution to the totals is asked again. */
  changed(e: Entry): void {
    if (this.indexed.has(e)) this.recount(e);
  }

  /** Registers a contributor; the records held so far are counted now (once). */
  addContributor(c: TotalsContributor): void {
    this.contributors.push(c);
    for (const e of this.all.items) this.recount(e);
  }

  /**
   * Entries of `status` (or all), oldest first, with seq greater than `afterSeq`, that `keep`
   * accepts; at most `limit`, and whether more matched. Visits only the list it reads from, from
   * the cursor on, until `limit` is passed.
   */
  page(status: ProcessStatus | undefined, afterSeq: number, limit: number, keep?: (e: Entry) => boolean): { entries: Entry[]; more: boolean } {
    const list = status === undefined ? this.all : this.byStatus.get(status);
    const out: Entry[] = [];
    if (list === undefined) return { entries: out, more: false };
    const a = list.items;
    for (let i = afterSeq < 0 ? 0 : list.after(afterSeq); i < a.length; i++) {
      const e = a[i]!;
      if (keep !== undefined && !keep(e)) continue;
      if (out.length >= limit) return { entries: out, more: true };
      out.push(e);
    }
    return { entries: out, more: false };
  }

  /** Counts by status over all records, plus the contributors' sums (running records asked now). */
  totals(): Record<string, number> {
    const t: Record<string, number> = {};
    for (const s of BASE_STATUSES) t[s] = 0;
    for (const [s, l] of this.byStatus) if (l.items.length > 0 || t[s] !== undefined) t[s] = l.items.length;
    if (this.contributors.length === 0) return t;
    const sums = new Map<string, { units: number; n: number }>();
    for (const [k, v] of this.sums) sums.set(k, { ...v });
    for (const e of this.byStatus.get('running')?.items ?? []) {
      const p = this.partOf(e);
      if (p !== undefined) addPart(sums, p, 1);
    }
    for (const [k, v] of sums) if (v.n > 0) t[k] = v.units / UNIT;
    return t;
  }

  private place(e: Entry, status: ProcessStatus): void {
    this.indexed.set(e, status);
    let l = this.byStatus.get(status);
    if (l === undefined) this.byStatus.set(status, (l = new SeqList()));
    l.insert(e);
    this.recount(e);
  }

  private unplace(e: Entry, status: ProcessStatus): void {
    this.byStatus.get(status)?.remove(e);
    this.indexed.delete(e);
    this.uncount(e);
  }

  private drop(e: Entry): void {
    const at = this.indexed.get(e);
    if (at !== undefined) this.unplace(e, at);
    this.all.remove(e);
  }

  private recount(e: Entry): void {
    this.uncount(e);
    // A running record's figures move without notice (the claude tracker updates its object in
    // place between writes): asked live by totals() instead.
    if (e.record.status === 'running') return;
    const p = this.partOf(e);
    if (p === undefined) return;
    this.parts.set(e, p);
    addPart(this.sums, p, 1);
  }

  private uncount(e: Entry): void {
    const p = this.parts.get(e);
    if (p === undefined) return;
    this.parts.delete(e);
    addPart(this.sums, p, -1);
  }

  /** The record's figures from every contributor, in units, or undefined for none. */
  private partOf(e: Entry): Record<string, number> | undefined {
    let part: Record<string, number> | undefined;
    for (const c of this.contributors) {
      const p = c(e.record);
      if (p === undefined) continue;
      part ??= {};
      for (const [k, v] of Object.entries(p)) part[k] = (part[k] ?? 0) + (Number.isFinite(v) ? Math.round(v * UNIT) : 0);
    }
    return part;
  }
}

function addPart(sums: Map<string, { units: number; n: number }>, part: Record<string, number>, sign: 1 | -1): void {
  for (const [k, v] of Object.entries(part)) {
    let s = sums.get(k);
    if (s === undefined) sums.set(k, (s = { units: 0, n: 0 }));
    s.units += sign * v;
    s.n += sign;
    if (s.n === 0) sums.delete(k);
  }
}
