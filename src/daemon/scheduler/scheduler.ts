/**
 * The scheduler: owns *when* a queued record starts (the supervisor owns how it runs and ends). A
 * queued record is in one of three phases, each with its held reason: waiting for dependencies
 * (indexed by dependency id), waiting for its start time (one heap, one timer for the earliest),
 * or ready (one heap per group, priority then arrival). Starting picks among groups with room in
 * round-robin (the group that started least recently first), so one busy group cannot starve the
 * others; priorities order records within a group. Every decision costs O(log n + groups).
 */
import type { ProcessRecord } from '../../protocol/schemas/processes.js';
import { DEFAULT_GROUP } from '../../protocol/schemas/scheduling.js';
import { CommandError } from '../command-error.js';
import { finalOutcome, satisfies, skipReason, waitingFor, type FinalOutcome } from './deps.js';
import type { StartGate } from './gate.js';
import type { GroupStore } from './groups.js';
import { Heap } from './heap.js';
import { retryHeld, retryNotBefore } from './retry.js';
import { StartTimes } from './start-times.js';
import { UsageGate } from './usage-gate.js';
import type { UsageHold } from './usage-hold.js';

/** What the scheduler needs of a queued record (the supervisor's Entry fits). */
export interface Schedulable {
  readonly record: ProcessRecord;
  readonly stored: { readonly seq: number };
  readonly ended: boolean;
}

/** The supervisor side: counts, lookups, and the two actions the scheduler asks for. */
export interface SchedulerHost<T> {
  readonly maxRunning: number;
  runningTotal(): number;
  /** The record of `id` (any status), if the daemon knows it. */
  lookup(id: string): T | undefined;
  /** Ends a queued record as `skipped` with `reason` (it never runs). */
  skip(item: T, reason: string): void;
  /** Something may start now (a start time came, a dependency succeeded, a group changed). */
  wake(): void;
}

/** `parked`: ready, but a start gate holds it (gate.ts); out of the heap until unpark(). `held`: ready but for the usage hold (usage-gate.ts). */
type Phase = 'deps' | 'time' | 'ready' | 'parked' | 'held';

interface QState {
  group: string;
  phase: Phase;
  pending: Set<string>;
  notBefore: number;
}

interface GroupState<T> {
  ready: Heap<T>;
  /** Ready records a start gate holds (gate.ts). */
  parked: Set<T>;
  running: number;
  queued: number;
  /** Queued in the deps or time phase. */
  waiting: number;
  /** When it last started a record (a counter), for round-robin across groups. */
  lastStart: number;
}

/** Removed records remembered for a later `after` (the newest this many). */
const TOMBSTONES = 10_000;

/** See the file comment; one per supervisor. */
export class Scheduler<T extends Schedulable> {
  private readonly states = new Map<T, QState>();
  private readonly groups = new Map<string, GroupState<T>>();
  /** Groups with at least one ready record. */
  private readonly readyGroups = new Set<string>();
  /** dependency id -> queued records waiting for it. */
  private readonly dependants = new Map<string, Set<T>>();
  private readonly timed = new StartTimes<T>((due) => this.onDue(due));
  private readonly removed = new Map<string, FinalOutcome>();
  /** Records restored before the queue opened; added (and their dependencies resolved) by open(). */
  private restored: T[] | undefined = [];
  private clock = 0;
  /** Ended records whose dependants are still to be resolved (a worklist: chains never recurse deeply). */
  private readonly endings: T[] = [];
  private resolving = false;
  private readonly gates: StartGate<T>[] = [];
  /** The usage-limit hold on claude runs (usage-gate.ts), once useHold() set it. */
  private usageGate: UsageGate<T> | undefined;

  constructor(
    private readonly host: SchedulerHost<T>,
    readonly settings: GroupStore,
  ) {}

  /** Adds a start gate (gate.ts): asked before a ready record starts. */
  addGate(gate: StartGate<T>): void {
    this.gates.push(gate);
  }

  /** A gate may have let go (a budget raised): parked records go back to their groups' heaps. */
  unpark(): void {
    let woke = false;
    for (const gs of this.groups.values()) {
      if (gs.parked.size === 0) continue;
      const parked = [...gs.parked];
      gs.parked.clear();
      for (const it of parked) {
        const st = this.states.get(it);
        if (st !== undefined) this.makeReady(it, st);
      }
      woke = true;
    }
    // A usage hold still in force takes its claude runs back to the held queue.
    if (woke) this.regate();
    if (woke) this.host.wake();
  }

  /** Gates claude runs on the usage hold from now on; its changes re-gate the queue. */
  useHold(hold: UsageHold): void {
    this.usageGate = new UsageGate<T>(hold, byPriority);
    hold.on('changed', () => this.regate());
  }

  /** The usage hold's state (for `ping`), if any. */
  get usageHold(): UsageHold | undefined {
    return this.usageGate?.hold;
  }

  /** Refuses an `after` naming an id the daemon does not know (UNKNOWN_DEPENDENCY). */
  checkAfter(after: readonly string[] | undefined): void {
    for (const id of after ?? []) {
      if (this.host.lookup(id) === undefined && !this.removed.has(id)) {
        throw new CommandError('UNKNOWN_DEPENDENCY', `after: no process with id ${JSON.stringify(id)}; spawn it first (list_processes shows the known ones). Nothing was started or kept`);
      }
    }
  }

  /** True when `item` (not yet queued) may start at once: nothing holds it and nothing is ahead of it. */
  startsNow(item: T): boolean {
    const rec = item.record;
    if (this.restored !== undefined || this.host.runningTotal() >= this.host.maxRunning) return false;
    if (rec.start_at !== undefined && Date.parse(rec.start_at) > Date.now()) return false;
    for (const id of rec.after ?? []) {
      const o = this.outcomeOf(id);
      if (o === undefined || !o.success) return false; // running, or `ended`/skip handling: the queue decides
    }
    if (this.usageGate?.applies(rec) === true && (this.usageGate.queue.size > 0 || !this.usageGate.admits())) return false;
    const g = rec.group ?? DEFAULT_GROUP;
    return this.hasRoom(g) && (this.groups.get(g)?.ready.size ?? 0) === 0 && this.gateHeld(item) === null;
  }

  /** A record restored queued at daemon start: scheduled once every record is back (open). */
  restore(item: T): void {
    if (this.restored !== undefined) this.restored.push(item);
    else this.add(item);
  }

  /** Schedules every restored record; from now on add() schedules at once. */
  open(): void {
    const items = this.restored ?? [];
    this.restored = undefined;
    for (const it of items.sort((a, b) => a.stored.seq - b.stored.seq)) if (!it.ended) this.add(it);
  }

  /** Schedules a queued record (its record is on disk); may end it `skipped` at once. */
  add(item: T): void {
    if (this.restored !== undefined) {
      this.restored.push(item);
      return;
    }
    const rec = item.record;
    const st: QState = { group: rec.group ?? DEFAULT_GROUP, phase: 'deps', pending: new Set(), notBefore: Math.max(rec.start_at === undefined ? 0 : Date.parse(rec.start_at), retryNotBefore(rec)) };
    const cond = rec.after_condition ?? 'success';
    for (const id of rec.after ?? []) {
      const o = this.outcomeOf(id);
      // Unknown here (not at spawn, which refuses it): removed before this daemon started, after it
      // had ended; its dependants were resolved then (a failure's skip is written before a removal can happen).
      if (o === undefined) {
        if (this.host.lookup(id) !== undefined) st.pending.add(id);
        continue;
      }
      if (!satisfies(o, cond)) {
        this.host.skip(item, skipReason(id, o));
        return;
      }
    }
    this.states.set(item, st);
    const gs = this.group(st.group);
    gs.queued++;
    gs.waiting++;
    for (const id of st.pending) {
      let set = this.dependants.get(id);
      if (set === undefined) this.dependants.set(id, (set = new Set()));
      set.add(item);
    }
    this.advance(item, st);
  }

  /** Forgets a queued record that will not start (killed while queued). */
  remove(item: T): void {
    const st = this.states.get(item);
    if (st === undefined) return;
    const gs = this.group(st.group);
    // Out of the heaps first: their order reads the state being deleted.
    if (st.phase === 'time') this.timed.remove(item);
    if (st.phase === 'ready') {
      gs.ready.remove(item);
      if (gs.ready.size === 0) this.readyGroups.delete(st.group);
      this.usageGate?.ready.delete(item);
    }
    if (st.phase === 'parked') gs.parked.delete(item);
    if (st.phase === 'held') this.usageGate?.unpark(item);
    this.states.delete(item);
    gs.queued--;
    if (st.phase === 'deps' || st.phase === 'time') gs.waiting--;
    for (const id of st.pending) this.dependants.get(id)?.delete(item);
  }

  /** The next record to start, if one may start now (not taken: call take() once its start is written). */
  next(): T | undefined {
    if (this.host.runningTotal() >= this.host.maxRunning) return undefined;
    let best: GroupState<T> | undefined;
    for (const name of this.readyGroups) {
      const gs = this.groups.get(name)!;
      if (!this.hasRoom(name) || this.parkHeld(name, gs) === undefined) continue;
      if (best === undefined || gs.lastStart < best.lastStart) best = gs;
    }
    return best?.ready.peek();
  }

  /** `item` (from next()) is starting: it leaves the queue. */
  take(item: T): void {
    const st = this.states.get(item);
    if (st !== undefined) {
      this.remove(item);
      this.group(st.group).lastStart = ++this.clock;
    }
    delete item.record.held;
  }

  /** Counts a record of `item`'s group as running (+1) or no longer running (-1). */
  running(item: T, delta: 1 | -1): void {
    const gs = this.group(item.record.group ?? DEFAULT_GROUP);
    gs.running += delta;
    if (delta === 1 && this.usageGate?.applies(item.record) === true) this.usageGate.running.add(item);
    if (delta === -1) this.usageGate?.running.delete(item);
    if (delta === 1 && this.states.has(item)) this.remove(item);
  }

  /** `item` has ended: resolves the records waiting for it (they become ready, or are skipped). */
  ended(item: T): void {
    this.remove(item);
    this.endings.push(item);
    if (this.resolving) return;
    this.resolving = true;
    let woke = false;
    try {
      for (let it = this.endings.shift(); it !== undefined; it = this.endings.shift()) woke = this.resolve(it) || woke;
    } finally {
      this.resolving = false;
    }
    if (woke) this.host.wake();
    this.regate(); // a claude run's slot in the ramp is free
  }

  /** `rec` was removed: a later `after` naming it counts its final status. */
  forget(rec: ProcessRecord): void {
    this.removed.delete(rec.process_id);
    this.removed.set(rec.process_id, finalOutcome(rec));
    if (this.removed.size > TOMBSTONES) this.removed.delete(this.removed.keys().next().value!);
  }

  /** Why a queued record has not started, for people; null when it is about to. */
  held(item: T): string | null {
    const st = this.states.get(item);
    if (st === undefined) return this.restored !== undefined ? 'the daemon is starting' : null;
    if (st.phase === 'deps') return waitingFor(st.pending, st.pending.size);
    if (st.phase === 'time') return retryHeld(item.record) ?? `not before ${new Date(st.notBefore).toISOString()}`;
    if (st.phase === 'held') return this.usageGate?.reason() ?? null;
    return this.gateHeld(item) ?? this.groupHeld(st.group);
  }

  /** Why a group's ready records do not start now, or null. */
  groupHeld(name: string): string | null {
    const s = this.settings.get(name);
    const gs = this.groups.get(name);
    if (s.paused) return `group ${name} is paused`;
    if (this.usageGate !== undefined && this.usageGate.heldIn(name) > 0) return this.usageGate.reason();
    if (s.parallel > 0 && (gs?.running ?? 0) >= s.parallel) return `group ${name} is full (${gs?.running ?? 0} of ${s.parallel} running)`;
    if (this.host.runningTotal() >= this.host.maxRunning) return `the daemon runs its maximum (--max-running ${this.host.maxRunning})`;
    return null;
  }

  /** Figures per group: every configured group, and every group with records queued or running. */
  groupFigures(name: string): { running: number; queued: number; waiting: number; parked: number } {
    const gs = this.groups.get(name);
    return { running: gs?.running ?? 0, queued: gs?.queued ?? 0, waiting: gs?.waiting ?? 0, parked: gs?.parked.size ?? 0 };
  }

  /** Names of the groups the daemon has seen (records or settings). */
  groupNames(): string[] {
    const names = new Set<string>([DEFAULT_GROUP, ...this.settings.names()]);
    for (const [n, gs] of this.groups) if (gs.running > 0 || gs.queued > 0) names.add(n);
    return [...names].sort();
  }

  /** Stops the start-time timer (daemon stop). */
  stop(): void {
    this.timed.stop();
    this.usageGate?.hold.stop();
  }

  private resolve(dep: T): boolean {
    const id = dep.record.process_id;
    const waiting = this.dependants.get(id);
    if (waiting === undefined) return false;
    this.dependants.delete(id);
    const o = finalOutcome(dep.record);
    let woke = false;
    for (const it of waiting) {
      const st = this.states.get(it);
      if (st === undefined) continue;
      if (!satisfies(o, it.record.after_condition ?? 'success')) {
        this.remove(it);
        this.host.skip(it, skipReason(id, o));
        continue;
      }
      st.pending.delete(id);
      if (st.pending.size === 0) woke = this.advance(it, st) || woke;
    }
    return woke;
  }

  /** Moves a record as far as it can go: deps -> time -> ready; true when it became ready. */
  private advance(item: T, st: QState): boolean {
    if (st.pending.size > 0) return false;
    const gs = this.group(st.group);
    if (st.notBefore > Date.now()) {
      if (st.phase !== 'time') {
        st.phase = 'time';
        this.timed.add(item, st.notBefore);
      }
      return false;
    }
    if (st.phase === 'time') this.timed.remove(item);
    gs.waiting--;
    if (this.usageGate?.applies(item.record) === true && (this.usageGate.queue.size > 0 || !this.usageGate.admits())) {
      st.phase = 'held';
      this.usageGate.park(item);
      return false;
    }
    this.makeReady(item, st);
    return true;
  }

  private makeReady(item: T, st: QState): void {
    st.phase = 'ready';
    this.group(st.group).ready.push(item);
    this.readyGroups.add(st.group);
    if (this.usageGate?.applies(item.record) === true) this.usageGate.ready.add(item);
  }

  /**
   * The usage hold changed (began, ended, the ramp widened) or a claude run ended: a hold moves the
   * ready claude runs back to the held queue; room admits held ones (the oldest first) to ready.
   */
  private regate(): void {
    const gate = this.usageGate;
    if (gate === undefined || this.restored !== undefined) return;
    if (gate.hold.active) {
      for (const item of [...gate.ready]) {
        const st = this.states.get(item)!;
        const gs = this.group(st.group);
        gs.ready.remove(item);
        if (gs.ready.size === 0) this.readyGroups.delete(st.group);
        gate.ready.delete(item);
        st.phase = 'held';
        gate.park(item);
      }
      return;
    }
    let woke = false;
    for (let it = gate.nextAdmitted(); it !== undefined; it = gate.nextAdmitted()) {
      this.makeReady(it, this.states.get(it)!);
      woke = true;
    }
    if (woke) this.host.wake();
  }

  /** Start times that have come: those records go on (to ready). */
  private onDue(due: T[]): void {
    let woke = false;
    for (const item of due) {
      const st = this.states.get(item);
      if (st === undefined) continue;
      st.notBefore = 0;
      woke = this.advance(item, st) || woke;
    }
    if (woke) this.host.wake();
  }

  private outcomeOf(id: string): FinalOutcome | undefined {
    const it = this.host.lookup(id);
    if (it === undefined) return this.removed.get(id);
    return it.ended ? finalOutcome(it.record) : undefined;
  }

  /** Why a gate holds `item`, or null. */
  private gateHeld(item: T): string | null {
    for (const g of this.gates) {
      const why = g.held(item);
      if (why !== null) return why;
    }
    return null;
  }

  /** The group's first ready record no gate holds; those held on the way are parked. */
  private parkHeld(name: string, gs: GroupState<T>): T | undefined {
    if (this.gates.length === 0) return gs.ready.peek();
    for (let it = gs.ready.peek(); it !== undefined; it = gs.ready.peek()) {
      if (this.gateHeld(it) === null) return it;
      gs.ready.remove(it);
      gs.parked.add(it);
      const st = this.states.get(it);
      if (st !== undefined) st.phase = 'parked';
    }
    this.readyGroups.delete(name);
    return undefined;
  }

  private hasRoom(name: string): boolean {
    const s = this.settings.get(name);
    return !s.paused && (s.parallel === 0 || (this.groups.get(name)?.running ?? 0) < s.parallel);
  }

  private group(name: string): GroupState<T> {
    let gs = this.groups.get(name);
    if (gs === undefined) {
      gs = { ready: new Heap<T>(byPriority), parked: new Set<T>(), running: 0, queued: 0, waiting: 0, lastStart: 0 };
      this.groups.set(name, gs);
    }
    return gs;
  }
}

/** Higher priority first, then arrival (seq). */
function byPriority(a: Schedulable, b: Schedulable): boolean {
  const pa = a.record.priority ?? 0;
  const pb = b.record.priority ?? 0;
  return pa !== pb ? pa > pb : a.stored.seq < b.stored.seq;
}
