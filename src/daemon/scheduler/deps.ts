/**
 * What a dependency's end means for its dependants: `after_condition: "success"` needs exit code 0
 * (and, for a claude run, no failure verdict); `"ended"` accepts any end, `skipped` included. Pure
 * functions over records, so the rule reads in one place and the scheduler only applies it.
 */
import type { ProcessRecord } from '../../protocol/schemas/processes.js';
import type { AfterCondition } from '../../protocol/schemas/scheduling.js';

/** What the scheduler keeps of an ended record that was removed (a later `after` may name it). */
export interface FinalOutcome {
  status: ProcessRecord['status'];
  exit_code: number | null;
  success: boolean;
  /** For a skipped record: the dependency whose failure skipped it (the root of the chain). */
  root?: string;
}

/** The final outcome of an ended record. */
export function finalOutcome(rec: ProcessRecord): FinalOutcome {
  const verdictFailed = rec.claude !== undefined && rec.claude['is_error'] === true;
  const o: FinalOutcome = { status: rec.status, exit_code: rec.exit_code, success: rec.status === 'exited' && rec.exit_code === 0 && !verdictFailed };
  const m = rec.status === 'skipped' ? ROOT_OF.exec(rec.reason ?? '') : null;
  const root = m === null ? undefined : m[2] ?? m[1];
  if (root !== undefined) o.root = root;
  return o;
}

/** True when `o` lets a dependant with `cond` go ahead. */
export function satisfies(o: FinalOutcome, cond: AfterCondition): boolean {
  return cond === 'ended' || o.success;
}

/** Reads the root back out of a skip reason (both forms below). */
const ROOT_OF = /^dependency (\S+) (?:was skipped \((\S+) did not succeed|did not succeed)/;

/**
 * The `skipped` reason: names the dependency that failed and how; for a chain, the dependency that
 * was skipped and the one whose failure started it.
 */
export function skipReason(depId: string, o: FinalOutcome): string {
  if (o.status === 'skipped') return `dependency ${depId} was skipped (${o.root ?? 'its dependency'} did not succeed); this never ran`;
  const how = o.status === 'exited' ? (o.exit_code === 0 ? 'exited 0 with a failure verdict' : `exited ${o.exit_code}`) : o.status;
  return `dependency ${depId} did not succeed (${how}); this never ran`;
}

/** "waiting for a, b, c and 4 more" for a record's pending dependencies. */
export function waitingFor(ids: Iterable<string>, count: number): string {
  const shown: string[] = [];
  for (const id of ids) {
    if (shown.length === 3) break;
    shown.push(id);
  }
  return `waiting for ${shown.join(', ')}${count > shown.length ? ` and ${count - shown.length} more` : ''}`;
}
