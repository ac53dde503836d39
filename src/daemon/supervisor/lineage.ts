/**
 * The supervisor's lineage and idempotency index (issue 13): which record holds an idempotency key,
 * and which records name a given one as their `parent`. Pure memory, rebuilt from the records at
 * restore (each record carries its own `parent` and `idempotency_key`), so it survives a daemon
 * SIGKILL exactly as the records do. Entries are checked against the supervisor's own map on every
 * read (`exists`): a record dropped on a path that does not call `forget` (a refused spawn) leaves
 * no stale answer, and an id used again starts from a clean slate (`add` forgets the old one first).
 */

/** What the index needs of a record. */
export interface LineageFields {
  process_id: string;
  parent?: string | null | undefined;
  idempotency_key?: string | null | undefined;
}

/** See the file comment; one per supervisor. */
export class LineageIndex {
  private readonly byKey = new Map<string, string>();
  private readonly keyOf = new Map<string, string>();
  private readonly parentOf = new Map<string, string>();
  private readonly children = new Map<string, Set<string>>();

  constructor(private readonly exists: (id: string) => boolean) {}

  /** Indexes a record that has just become known (spawned or restored). */
  add(r: LineageFields): void {
    const id = r.process_id;
    this.forget(id);
    if (typeof r.idempotency_key === 'string') {
      this.byKey.set(r.idempotency_key, id);
      this.keyOf.set(id, r.idempotency_key);
    }
    if (typeof r.parent === 'string') {
      this.parentOf.set(id, r.parent);
      let set = this.children.get(r.parent);
      if (set === undefined) this.children.set(r.parent, (set = new Set()));
      set.add(id);
    }
  }

  /** Drops a record that is gone (removed). Its children keep naming it as their parent. */
  forget(id: string): void {
    const key = this.keyOf.get(id);
    if (key !== undefined) {
      this.keyOf.delete(id);
      if (this.byKey.get(key) === id) this.byKey.delete(key);
    }
    const parent = this.parentOf.get(id);
    if (parent !== undefined) {
      this.parentOf.delete(id);
      const set = this.children.get(parent);
      set?.delete(id);
      if (set?.size === 0) this.children.delete(parent);
    }
  }

  /** The id of the record that holds `key`, if one does. */
  holder(key: string | undefined): string | undefined {
    if (key === undefined) return undefined;
    const id = this.byKey.get(key);
    if (id === undefined) return undefined;
    if (this.exists(id) && this.keyOf.get(id) === key) return id;
    this.forget(id);
    return undefined;
  }

  /** The records that name `id` as their parent, in the order they became known. */
  childrenOf(id: string): string[] {
    const set = this.children.get(id);
    if (set === undefined) return [];
    const out: string[] = [];
    for (const c of [...set]) {
      if (this.exists(c) && this.parentOf.get(c) === id) out.push(c);
      else this.forget(c);
    }
    return out;
  }

  /**
   * Every descendant of `id` (not `id` itself), by depth: `[children, grandchildren, ...]`. A record
   * appears once, at its first depth; cycles (a parent recorded as given, then spawned with its own
   * child as parent) end where they close.
   */
  levels(id: string): string[][] {
    const seen = new Set<string>([id]);
    const out: string[][] = [];
    let level = [id];
    while (level.length > 0) {
      const next: string[] = [];
      for (const p of level) {
        for (const c of this.childrenOf(p)) {
          if (seen.has(c)) continue;
          seen.add(c);
          next.push(c);
        }
      }
      if (next.length > 0) out.push(next);
      level = next;
    }
    return out;
  }
}
