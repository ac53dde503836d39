import type { ParamsOut } from '../../../protocol/commands.js';
import type { SpawnResult } from '../../../protocol/schemas/processes.js';
import type { Handler } from '../../registry.js';
import type { Services } from '../../services.js';

/** `spawn_process`: starts (or queues) a command; replies once its record is on disk. */
export const spawnProcess: Handler<'spawn_process'> = (params, { services }) => spawnOnce(params, services);

function spawnOnce(params: ParamsOut<'spawn_process'>, services: Services): Promise<SpawnResult> {
  // A duplicate (idempotency_key) is answered before any check the first spawn passed.
  const dup = services.processes.duplicateOf(params.idempotency_key, () => spawnOnce(params, services));
  if (dup !== undefined) return dup;
  services.claude.checkCommand(params.cmd); // SESSION_BUSY for a claude command line on a live session
  return services.processes.spawn(params);
}
