import type { Handler } from '../../registry.js';

/** `spawn_process`: starts (or queues) a command; replies once its record is on disk. */
export const spawnProcess: Handler<'spawn_process'> = (params, { services }) => {
  services.claude.checkCommand(params.cmd); // SESSION_BUSY for a claude command line on a live session
  return services.processes.spawn(params);
};
