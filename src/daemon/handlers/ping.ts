import { VERSION } from '../../version.js';
import { liveKeeper } from '../keeper.js';
import { collectGarbage, memoryStats } from '../memory.js';
import type { Handler } from '../registry.js';
import { roundUsd } from '../scheduler/index.js';

/**
 * Liveness and identity in one round trip: the CLI's `ping`, `start --detach` and the stale-socket
 * probe use it. With `stats`/`gc` it also reports memory, which the leak and load tests read.
 */
export const ping: Handler<'ping'> = (params, { services }) => {
  const base = {
    pong: true as const,
    version: VERSION,
    pid: process.pid,
    uptime_s: Math.round((Date.now() - services.startedAt) / 10) / 100,
    socket: services.config.socketPath,
    home: services.config.home,
    modules_dir: services.config.modulesDir,
    // JSON has no Infinity: no limit is null.
    max_running: Number.isFinite(services.config.maxRunning) ? services.config.maxRunning : null,
    budget: { budget_usd: services.processes.budget.daemonBudget, spent_usd: roundUsd(services.processes.budget.spentTotal()) },
    claude_hold: services.processes.usageHold.info(),
    pids_limit: { max: services.processes.pidsLimit.max, mechanism: services.processes.pidsLimit.mechanism },
    keeper: keeperOf(services.config.keeper),
    module_host: services.modules.hostStats(),
    events: { watchers: services.events.watchCount, last_seq: services.events.journal.lastSeq, oldest_seq: services.events.journal.oldestSeq },
  };
  if (params.gc === true) collectGarbage();
  if (params.stats !== true && params.gc !== true) return base;
  return { ...base, memory: memoryStats(), gc: params.gc === true, records: services.processes.recordStats() };
};

/** The keeper as the wire shows it: null when none started this daemon or it no longer runs. */
function keeperOf(info: Parameters<typeof liveKeeper>[0]): { pid: number; restarts: number; last_death: string | null } | null {
  const k = liveKeeper(info);
  return k === undefined ? null : { pid: k.pid, restarts: k.restarts, last_death: k.lastDeath };
}
