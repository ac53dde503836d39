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
 * A claude run's figure in `list_processes` totals (the supervisor keeps the sum up to date, to
 * 1e-9 USD): `total_cost_usd` shows when at least one record is a claude run, so lists of plain
 * processes keep plain totals.
 */
export function addCostTotal(rec: ProcessRecord): Record<string, number> | undefined {
  if (rec.claude === undefined) return undefined;
  const c = rec.claude['total_cost_usd'];
  return { total_cost_usd: typeof c === 'number' ? c : 0 };
}
