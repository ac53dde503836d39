/** Parameters and results of the daemon's own commands (`ping`, `shutdown`). */
import { z } from 'zod';

/** `ping` takes nothing; unknown keys are ignored like everywhere else (additive compatibility). */
export const PingParams = z.object({});

/** What `ping` proves: the daemon answers, and which daemon it is. */
export interface PingResult {
  pong: true;
  version: string;
  pid: number;
  uptime_s: number;
  socket: string;
  home: string;
  modules_dir: string;
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
