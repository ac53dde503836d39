import type { Handler } from '../../registry.js';

/** `kill_process`: tree kill with escalation; replies with the record once the process ended. */
export const killProcess: Handler<'kill_process'> = (params, { services }) =>
  services.processes.kill(params.process_id, { signal: params.signal, grace_s: params.grace_s });
