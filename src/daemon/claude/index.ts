/**
 * The claude domain's entry: creates the observer that turns claude processes into first-class
 * runs. Created right after the supervisor, before the daemon serves, so no run goes unobserved.
 */
import type { Logger } from '../log.js';
import type { Supervisor } from '../supervisor/index.js';
import { ClaudeRuns } from './runs.js';

export { ClaudeRuns } from './runs.js';

/** Attaches the claude observer to the supervisor (including records it restored). */
export function createClaudeRuns(sup: Supervisor, log: Logger): ClaudeRuns {
  return new ClaudeRuns(sup, log);
}
