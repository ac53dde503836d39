import { VERSION } from '../../version.js';
import { collectGarbage, memoryStats } from '../memory.js';
import type { Handler } from '../registry.js';

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
    pids_limit: { max: services.processes.pidsLimit.max, mechanism: services.processes.pidsLimit.mechanism },
  };
  if (params.gc === true) collectGarbage();
  if (params.stats !== true && params.gc !== true) return base;
  return { ...base, memory: memoryStats(), gc: params.gc === true };
};
