import type { Handler } from '../../registry.js';

/** `spawn_process`: starts (or queues) a command; replies once its record is on disk. */
export const spawnProcess: Handler<'spawn_process'> = (params, { services }) => services.processes.spawn(params);
