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
}

/** The final outcome of an ended record. */
export function finalOutcome(rec: ProcessRecord): FinalOutcome {
  const verdictFailed = rec.claude !== undefined && rec.claude['is_error'] === true;
  return { status: rec.status, exit_code: rec.exit_code, success: rec.status === 'exited' && rec.exit_code === 0 && !verdictFailed };
}

/** True when `o` lets a dependant with `cond` go ahead. */
export function satisfies(o: FinalOutcome, cond: AfterCondition): boolean {
  return cond === 'ended' || o.success;
}

/** The `skipped` reason naming the dependency that failed and how. */
export function skipReason(depId: string, o: FinalOutcome): string {
  const how = o.status === 'exited' ? (o.exit_code === 0 ? 'exited 0 with a failure verdict' : `exited ${o.exit_code}`) : o.status;
  return `dependency ${depId} did not succeed (${how}); after_condition is success, so this never ran`;
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
