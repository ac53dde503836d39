/** Parameters and results of the daemon's own commands (`ping`, `shutdown`). */
import { z } from 'zod';

/**
 * `ping` needs nothing; unknown keys are ignored like everywhere else (additive compatibility).
 * `stats` adds the daemon's memory figures and `gc` first runs a full garbage collection, so a
 * test or an operator can tell a leak (heap that stays up after a GC) from garbage not yet collected.
 */
export const PingParams = z.object({
  stats: z.boolean().optional(),
  gc: z.boolean().optional(),
});

/** The daemon's memory in bytes, as Node's memoryUsage reports it. */
export interface MemoryStats {
  rss: number;
  heap_used: number;
  heap_total: number;
  external: number;
  array_buffers: number;
}

/** What `ping` proves: the daemon answers, and which daemon it is. */
export interface PingResult {
  pong: true;
  version: string;
  pid: number;
  uptime_s: number;
  socket: string;
  home: string;
  modules_dir: string;
  /** Processes run at once before spawns queue (`start --max-running`); null when there is no limit. */
  max_running?: number | null;
  /**
   * The daemon-wide spending budget of claude runs (`start --budget-usd`; null for none) and what all
   * records spent (reported `claude.total_cost_usd`, removed records' included), in dollars.
   */
  budget?: { budget_usd: number | null; spent_usd: number };
  /**
   * The per-process limit on processes/threads of a child's tree (`start --max-pids`) and how it is
   * enforced: `cgroup-v1`/`cgroup-v2` (a pids cgroup per child), `rlimit` (RLIMIT_NPROC, per user),
   * or `none` (root without a writable pids cgroup).
   */
  /**
   * Usage limits (claude runs): `reason` "claude runs held until 20:44 UTC (five_hour limit)" while
   * held, or the ramp after it; null fields when nothing holds claude runs.
   */
  claude_hold?: { reason: string | null; until: string | null; limit_type: string | null; cause: 'usage_limit' | 'utilization' | null; ramp: number | null };
  pids_limit?: { max: number; mechanism: 'cgroup-v1' | 'cgroup-v2' | 'rlimit' | 'none' };
  /**
   * The keeper that restarts this daemon if it dies (`start --detach`): its pid, how many daemons it
   * started before this one, and how the previous one ended (`signal 9 (Killed)`, `exit code 1`).
   * null when nothing keeps the daemon (started in the foreground or with `--no-keeper`, no C
   * compiler, or the keeper was killed).
   */
  keeper?: { pid: number; restarts: number; last_death: string | null } | null;
  /**
   * The module host process (TypeScript/JavaScript modules run there, not in the daemon): its pid
   * and RSS in bytes; null while none runs. `memory.rss` is the daemon's alone.
   */
  module_host?: { pid: number; rss: number } | null;
  /** The event journal: watches open now, its newest and oldest seq (docs/protocol.md, "Events"). */
  events?: { watchers: number; last_seq: number; oldest_seq: number };
  /** Present when the request asked for `stats` or `gc`. */
  memory?: MemoryStats;
  /** True when a full GC ran before `memory` was measured. */
  gc?: boolean;
  /**
   * With `stats`/`gc`: records held; how many ended ones are settled (their live-time tables
   * dropped); how many of those are slim (a long claude result held on disk only, read back).
   */
  records?: { total: number; settled: number; slim: number };
}

/** `kill_processes: true` kills every running child before exiting; by default they keep running. */
export const ShutdownParams = z.object({
  kill_processes: z.boolean().optional(),
});

/** `shutdown` replies before it acts, so the reply only says what will happen. */
export interface ShutdownResult {
  shutting_down: true;
  kill_processes: boolean;
}

/** The core commands' schemas, spread into the command table. */
export const CORE_SCHEMAS = {
  ping: PingParams,
  shutdown: ShutdownParams,
} as const;

/** Results of the core commands. */
export interface CoreResults {
  ping: PingResult;
  shutdown: ShutdownResult;
}
