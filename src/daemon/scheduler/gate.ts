/**
 * A start gate: a hold the scheduler asks about before it starts a ready record (budgets in
 * budget.ts; other holds plug in the same way). A held record is parked out of its group's heap,
 * so records behind it (that the gate does not hold) still start; `Scheduler.unpark()` puts parked
 * records back when a gate may have let go (a budget raised).
 */
export interface StartGate<T> {
  /** Why `item` may not start now, or null. */
  held(item: T): string | null;
}
