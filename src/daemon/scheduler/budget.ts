/**
 * Spending budgets (`group_set {budget_usd}` per group, `start --budget-usd` for the daemon). A
 * group's spend is the sum of `claude.total_cost_usd` over its records (what the runs reported:
 * claude writes its cost only in its result line, so a run still working counts 0 until then; the
 * `--max-budget-usd` it was started with bounds how far it can go), plus `spent_removed_usd`, the
 * spend of its removed records, persisted in groups.json so `clean` or retention never resets a
 * budget. Spend is derived from records, which persist, so it survives a daemon SIGKILL. Once the
 * spend reaches the budget, queued records the gate applies to (claude runs) stay queued; others
 * never wait for a budget. Costs are tracked incrementally (note/forget): no decision scans records.
 */
import type { ProcessRecord } from '../../protocol/schemas/processes.js';
import { DEFAULT_GROUP } from '../../protocol/schemas/scheduling.js';
import type { StartGate } from './gate.js';
import type { GroupStore } from './groups.js';

/** Below this many dollars left, a budget counts as spent (claude's flag needs a positive amount). */
const EPSILON_USD = 1e-6;

/** A record's reported cost in dollars (0 until its run reports one). */
export function costOf(rec: ProcessRecord): number {
  const c = rec.claude?.['total_cost_usd'];
  return typeof c === 'number' && Number.isFinite(c) && c > 0 ? c : 0;
}

/** Dollars rounded to 1e-9: sums of floats as people expect them (0.00144, not 0.0014400000000000001). */
export function roundUsd(x: number): number {
  return Math.round(x * 1e9) / 1e9;
}

/** Dollars for people: up to 6 significant digits, no exponent for the small amounts runs cost. */
export function usd(x: number): string {
  return `$${Number(x.toPrecision(6)).toFixed(8).replace(/0+$/, '').replace(/\.$/, '')}`;
}

/** See the file comment; one per supervisor. */
export class BudgetGate implements StartGate<{ readonly record: ProcessRecord }> {
  private readonly costs = new Map<string, { group: string; usd: number }>();
  private readonly live = new Map<string, number>();
  private liveTotal = 0;
  /** Which records a budget holds (the claude domain sets it: claude runs); default: records with a `claude` object. */
  applies: (rec: ProcessRecord) => boolean = (rec) => rec.claude !== undefined;

  constructor(
    private readonly settings: GroupStore,
    /** `start --budget-usd`: the whole daemon's budget, or null for none. */
    readonly daemonBudget: number | null,
  ) {}

  /** A record was created, restored or its cost changed: its spend counts from now on. */
  note(rec: ProcessRecord): void {
    const cost = costOf(rec);
    const old = this.costs.get(rec.process_id);
    if (old === undefined && cost === 0) return;
    const group = rec.group ?? DEFAULT_GROUP;
    if (old !== undefined) this.add(old.group, -old.usd);
    this.costs.set(rec.process_id, { group, usd: cost });
    this.add(group, cost);
  }

  /**
   * `rec` is being removed: its spend moves into the group's persisted `spent_removed_usd` (written
   * now; a failed write throws and nothing changes). Returns how to undo it (the removal failed).
   */
  forget(rec: ProcessRecord): () => void {
    const c = this.costs.get(rec.process_id);
    if (c === undefined || c.usd === 0) {
      this.costs.delete(rec.process_id);
      return () => undefined;
    }
    const before = this.settings.get(c.group).spent_removed_usd;
    this.settings.set(c.group, { spent_removed_usd: before + c.usd });
    this.costs.delete(rec.process_id);
    this.add(c.group, -c.usd);
    return () => {
      this.settings.set(c.group, { spent_removed_usd: before });
      this.costs.set(rec.process_id, c);
      this.add(c.group, c.usd);
    };
  }

  /** A group's spend: its records' reported costs plus what its removed records had spent. */
  spent(group: string): number {
    return (this.live.get(group) ?? 0) + this.settings.get(group).spent_removed_usd;
  }

  /** The daemon's spend: every group's. */
  spentTotal(): number {
    let removed = 0;
    for (const g of this.settings.names()) removed += this.settings.get(g).spent_removed_usd;
    return this.liveTotal + removed;
  }

  /** Dollars `rec` may still spend under its group's and the daemon's budgets; null without a budget. */
  remaining(rec: ProcessRecord): number | null {
    const group = rec.group ?? DEFAULT_GROUP;
    const b = this.settings.get(group).budget_usd;
    let left: number | null = b === null ? null : b - this.spent(group);
    if (this.daemonBudget !== null) left = Math.min(left ?? Infinity, this.daemonBudget - this.spentTotal());
    return left;
  }

  /** Why `item` may not start for its budget ("budget: $X of $Y spent (...)"), or null. */
  held(item: { readonly record: ProcessRecord }): string | null {
    const rec = item.record;
    if (!this.applies(rec)) return null;
    return this.groupHeld(rec.group ?? DEFAULT_GROUP);
  }

  /** Why the group's claude runs may not start for a budget, or null. */
  groupHeld(group: string): string | null {
    const b = this.settings.get(group).budget_usd;
    if (b !== null) {
      const s = this.spent(group);
      if (b - s < EPSILON_USD) return `budget: ${usd(s)} of ${usd(b)} spent (group ${group})`;
    }
    if (this.daemonBudget !== null) {
      const s = this.spentTotal();
      if (this.daemonBudget - s < EPSILON_USD) return `budget: ${usd(s)} of ${usd(this.daemonBudget)} spent (daemon, --budget-usd)`;
    }
    return null;
  }

  private add(group: string, delta: number): void {
    this.live.set(group, (this.live.get(group) ?? 0) + delta);
    this.liveTotal += delta;
  }
}
