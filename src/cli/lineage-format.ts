/**
 * Lineage in the CLI (issue 13): the `--idempotency-key` / `--parent` flags of `spawn` and `claude`,
 * and the order and indentation of `list --tree`. Types only from the protocol (no zod).
 */
import type { ProcessRecord } from '../protocol/schemas/processes.js';
import { UsageError } from './verb.js';

type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** `--idempotency-key K`, `--parent ID` as spawn parameters (the client adds the automatic parent). */
export function lineageFlags(values: Values): { idempotency_key?: string; parent?: string } {
  const out: { idempotency_key?: string; parent?: string } = {};
  const key = values['idempotency-key'];
  if (typeof key === 'string') {
    if (key === '') throw new UsageError('--idempotency-key takes a non-empty value');
    out.idempotency_key = key;
  }
  const parent = values['parent'];
  if (typeof parent === 'string') {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(parent) || parent === '.' || parent === '..') throw new UsageError(`--parent takes a process id (1-64 of A-Z a-z 0-9 . _ -), not '${parent}'`);
    out.parent = parent;
  }
  return out;
}

/**
 * Records in tree order, each id indented two spaces per level under its parent (display copies).
 * Roots are records whose parent is null or not listed, in list order; children follow their parent
 * in list order. Records on a cycle (possible only with parents recorded as given) are shown as roots.
 */
export function treeOrder(records: readonly ProcessRecord[]): ProcessRecord[] {
  const byId = new Map(records.map((r) => [r.process_id, r]));
  const kids = new Map<string, ProcessRecord[]>();
  for (const r of records) {
    const p = r.parent ?? null;
    if (p === null || !byId.has(p)) continue;
    let list = kids.get(p);
    if (list === undefined) kids.set(p, (list = []));
    list.push(r);
  }
  const out: ProcessRecord[] = [];
  const seen = new Set<string>();
  const visit = (r: ProcessRecord, depth: number): void => {
    if (seen.has(r.process_id)) return;
    seen.add(r.process_id);
    out.push(depth === 0 ? r : { ...r, process_id: `${'  '.repeat(depth - 1)}└ ${r.process_id}` });
    for (const c of kids.get(r.process_id) ?? []) visit(c, depth + 1);
  };
  for (const r of records) if (r.parent == null || !byId.has(r.parent)) visit(r, 0);
  for (const r of records) visit(r, 0); // what only a cycle reaches
  return out;
}
