/**
 * Killing a process tree. The tree is the command's process group plus every descendant of the
 * wrapper found through /proc parent links at the moment of each signal: `claude` starts its tool
 * shells with setsid (outside the group), and the wrapper, a child subreaper, inherits any of them
 * that get orphaned, so the parent walk still finds them. Processes are named by (pid, start time),
 * so a pid reused by a stranger between two steps is never signalled.
 */
import { readStat, treeOf, type ProcStat } from './proc.js';
import type { Entry } from './entry.js';

/** One rung of a kill ladder: wait `delay_ms` (unless the process has ended), then send `signal`. */
export interface KillStep {
  signal: string;
  delay_ms: number;
}

/** What `kill_process` (or a timeout, a stall, shutdown) asked for. */
export interface KillRequest {
  /** Explicit signal; absent means "the process's usual way to stop". */
  signal?: string;
  /** Seconds between the first signal and the escalation; default 5. */
  grace_s?: number;
  /** Recorded as the record's `reason` when this kill ends the process. */
  reason?: string;
}

/**
 * Chooses the ladder for a process, or returns undefined to let the next planner (and finally the
 * default) decide. The claude observer registers one: with no explicit signal, a claude run gets
 * SIGINT, then SIGTERM after grace_s, then SIGKILL 2 s later.
 */
export type KillPlanner = (entry: Entry, req: KillRequest) => KillStep[] | undefined;

/** Default grace between the polite signal and SIGKILL. */
export const DEFAULT_GRACE_S = 5;

/** The default: `signal` (SIGTERM), then SIGKILL after `grace_s`. */
export function defaultLadder(req: KillRequest): KillStep[] {
  return [
    { signal: req.signal ?? 'SIGTERM', delay_ms: 0 },
    { signal: 'SIGKILL', delay_ms: (req.grace_s ?? DEFAULT_GRACE_S) * 1000 },
  ];
}

/**
 * Sends `signal` to the whole tree of `entry`: the command's process group at once, then every
 * descendant the /proc walk finds (setsid'd ones are outside the group). With `deferWalk` the walk
 * runs on the next timer turn and the returned promise settles once it has: a burst of kills (100
 * `kill_process` pipelined on one connection) then sends every group signal before any walk, so the
 * last process is not signalled after 99 walks. Returns how many processes it reached.
 */
export function signalTree(entry: Entry, signal: string, opts: { deferWalk?: boolean } = {}): number | Promise<number> {
  const s = entry.stored;
  const pid = s.record.pid;
  const wrapperOk = (): ProcStat | undefined => {
    const w = s.wrapper_pid !== null ? readStat(s.wrapper_pid) : undefined;
    return w !== undefined && w.start === s.wrapper_start ? w : undefined;
  };
  const cmdOk = (): ProcStat | undefined => {
    const c = pid === null ? undefined : readStat(pid);
    return c !== undefined && c.start === s.pid_start ? c : undefined;
  };
  // The group kill covers members the walk races with; the group id cannot be reused while the
  // wrapper has not yet recorded the command's end (it holds the leader until then). Once the
  // command has ended, its group id may name a stranger's group: the walk alone then (the wrapper,
  // a subreaper, is the ancestor of every leftover, so the walk finds them all).
  let group = 0;
  let reached = 0;
  if (pid !== null && !entry.ended && (wrapperOk() !== undefined || cmdOk() !== undefined)) {
    try {
      process.kill(-pid, signal as NodeJS.Signals);
      reached++;
      group = pid;
    } catch {
      // The group is already empty.
    }
  }
  // The walk checks the wrapper and the command again (by start time): when deferred, either may
  // have ended and its pid been reused meanwhile.
  const walk = (): number => reached + signalWalk(entry, signal, group, wrapperOk(), cmdOk);
  if (!opts.deferWalk) return walk();
  return new Promise((resolve) => setTimeout(() => resolve(walk()), 0));
}

/** The walk half of signalTree: descendants of the wrapper (else of the command), and processes signalled before. */
function signalWalk(entry: Entry, signal: string, group: number, wrapper: ProcStat | undefined, cmdOk: () => ProcStat | undefined): number {
  const targets = new Map<number, ProcStat>();
  const add = (st: ProcStat): void => {
    if (st.pid !== process.pid && st.pid > 1) targets.set(st.pid, st);
  };
  const s = entry.stored;
  if (wrapper !== undefined) for (const d of treeOf(wrapper.pid, wrapper.threads)) add(d);
  const pid = s.record.pid;
  // Read again only when the walk did not just read it (the wrapper is gone, or it is not its child).
  const fromWalk = pid === null ? undefined : targets.get(pid);
  const cmd = fromWalk !== undefined && fromWalk.start === s.pid_start ? fromWalk : fromWalk === undefined ? cmdOk() : undefined;
  if (cmd !== undefined) {
    add(cmd);
    if (wrapper === undefined) for (const d of treeOf(cmd.pid)) add(d);
  }
  for (const [p, start] of entry.signalled) {
    if (targets.has(p)) continue;
    const cur = readStat(p);
    if (cur !== undefined && cur.start === start) add(cur);
  }
  let reached = 0;
  for (const [p, st] of targets) {
    entry.signalled.set(p, st.start);
    if (st.state === 'Z') continue;
    // Already reached by the group kill (one kill(2) per process, not two: stopping 100 at once
    // costs half the syscalls). One that left the group between the scan and the group kill is
    // still the wrapper's descendant: the next step's walk (or the wrapper's own linger) gets it.
    if (st.pgrp === group) continue;
    try {
      process.kill(p, signal as NodeJS.Signals);
      reached++;
    } catch {
      // Gone since the scan.
    }
  }
  return reached;
}

/**
 * The processes a command left behind that are still alive: the lingering wrapper's descendants
 * (the wrapper itself excluded). Empty unless the wrapper still lives and is ours (same start time).
 */
export function leftovers(entry: Entry): ProcStat[] {
  const s = entry.stored;
  if (!entry.lingering || s.wrapper_pid === null) return [];
  const w = readStat(s.wrapper_pid);
  if (w === undefined || w.start !== s.wrapper_start || w.state === 'Z') return [];
  return treeOf(w.pid).filter((p) => p.state !== 'Z' && p.state !== 'X');
}

/**
 * Runs a ladder against what an ended command left behind (its lingering wrapper's tree): each step
 * waits its delay (ending early when the tree has ended), then signals the tree. Resolves once the
 * wrapper has exited (every leftover reaped), or 2 s after the last step.
 */
export async function runTreeLadder(entry: Entry, steps: KillStep[]): Promise<void> {
  for (const step of steps) {
    if (!entry.lingering) return;
    if (step.delay_ms > 0 && (await entry.waitTreeEnd(step.delay_ms))) return;
    signalTree(entry, step.signal);
  }
  await entry.waitTreeEnd(2000);
}

/**
 * Runs a ladder: each step waits its delay (ending early when the process ends), then signals the
 * tree. Resolves once the process has ended, or 2 s after the last step if it still has not (a
 * process stuck in uninterruptible sleep; the caller then replies with the record as it stands).
 * Processes already signalled that outlive the command (a setsid'd shell ignoring SIGTERM, now
 * orphaned) still get the rest of the ladder, in the background.
 */
export async function runLadder(entry: Entry, steps: KillStep[]): Promise<void> {
  // Retries: the ladder belongs to the attempt running now; once it has ended, the next attempt
  // (same entry, new launch) is never signalled by it.
  const gen = entry.generation;
  const over = (): boolean => entry.ended || entry.retryPending || entry.generation !== gen;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    const t0 = Date.now();
    const ended = step.delay_ms > 0 ? await entry.waitAttemptEnd(step.delay_ms) : over();
    if (ended || over()) {
      const rest = steps.slice(i);
      rest[0] = { signal: step.signal, delay_ms: Math.max(0, step.delay_ms - (Date.now() - t0)) };
      if (entry.signalled.size > 0) void sweepSurvivors(entry, rest);
      return;
    }
    // The first signal's walk waits for the turn's other kills to send their group signals.
    await signalTree(entry, step.signal, { deferWalk: i === 0 });
  }
  await entry.waitAttemptEnd(2000);
}

/** The remaining steps, sent only to processes signalled before that are still alive. */
async function sweepSurvivors(entry: Entry, steps: KillStep[]): Promise<void> {
  for (const step of steps) {
    if (step.delay_ms > 0) await new Promise((r) => setTimeout(r, step.delay_ms).unref());
    let alive = 0;
    for (const [pid, start] of entry.signalled) {
      const st = readStat(pid);
      if (st === undefined || st.start !== start || st.state === 'Z') {
        entry.signalled.delete(pid);
        continue;
      }
      alive++;
      try {
        process.kill(pid, step.signal as NodeJS.Signals);
      } catch {
        // Gone since the scan.
      }
    }
    if (alive === 0) return;
  }
}
