import { killCascade } from '../../supervisor/cascade.js';
import type { Handler } from '../../registry.js';

/** `kill_process`: tree kill with escalation; with `cascade`, descendants first (cascade.ts). Replies once ended. */
export const killProcess: Handler<'kill_process'> = (params, { services }) => {
  const req = { signal: params.signal, grace_s: params.grace_s };
  return params.cascade === true ? killCascade(services.processes, params.process_id, req) : services.processes.kill(params.process_id, req);
};
