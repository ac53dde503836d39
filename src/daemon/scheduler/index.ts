/**
 * The scheduler's entry: decides when queued records start (groups, priorities, dependencies,
 * start times). The supervisor calls it at its few decision points; see scheduler.ts.
 */
export { Scheduler, type Schedulable, type SchedulerHost } from './scheduler.js';
export { GroupStore, type GroupSettings } from './groups.js';
export { BudgetGate, roundUsd } from './budget.js';
export type { StartGate } from './gate.js';
