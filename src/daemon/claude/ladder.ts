/**
 * How a claude run is stopped and counted, as the supervisor's pluggable hooks. SIGINT comes first
 * because it is the one signal claude answers by ending its tool shells and writing its result line
 * (SIGTERM makes it exit 143 with no result); SIGTERM and SIGKILL follow for a run that ignores it.
 */
import type { ProcessRecord } from '../../protocol/schemas/processes.js';
import type { KillRequest, KillStep } from '../supervisor/index.js';

/** SIGKILL comes this long after the SIGTERM step. */
const SIGKILL_AFTER_TERM_MS = 2000;
/** Default seconds between SIGINT and SIGTERM, as for any kill's grace. */
const DEFAULT_GRACE_S = 5;

/** The ladder for a kill without an explicit signal: SIGINT, SIGTERM after grace_s, SIGKILL 2 s later. */
export function claudeLadder(req: KillRequest): KillStep[] {
  return [
    { signal: 'SIGINT', delay_ms: 0 },
    { signal: 'SIGTERM', delay_ms: (req.grace_s ?? DEFAULT_GRACE_S) * 1000 },
    { signal: 'SIGKILL', delay_ms: SIGKILL_AFTER_TERM_MS },
  ];
}

/**
 * Adds `total_cost_usd` to `list_processes` totals when at least one record is a claude run, so
 * lists of plain processes keep plain totals. Rounded to 1e-9 to hide float summing noise.
 */
export function addCostTotal(records: readonly ProcessRecord[], totals: Record<string, number>): void {
  let cost = 0;
  let runs = 0;
  for (const r of records) {
    if (r.claude === undefined) continue;
    runs++;
    const c = r.claude['total_cost_usd'];
    if (typeof c === 'number') cost += c;
  }
  if (runs > 0) totals['total_cost_usd'] = Math.round(cost * 1e9) / 1e9;
}
