import { killCascade } from '../../supervisor/cascade.js';
import type { Handler } from '../../registry.js';

/**
 * `kill_process`: tree kill with escalation; replies with the record once the process ended. With
 * `cascade`, descendants first (cascade.ts). With `process_ids`, all of them at once (every first
 * signal before any end is handled), replying `{processes: [...]}` once every one has ended.
 */
export const killProcess: Handler<'kill_process'> = (params, { services }) => {
  const req = { signal: params.signal, grace_s: params.grace_s };
  if (params.process_ids !== undefined) return services.processes.killMany(params.process_ids, req).then((processes) => ({ processes }));
  return params.cascade === true ? killCascade(services.processes, params.process_id!, req) : services.processes.kill(params.process_id!, req);
};
