import type { Handler } from '../../registry.js';

/** `wait_process`: long-poll for the end; stops early (timed_out) when the client goes away. */
export const waitProcess: Handler<'wait_process'> = (params, { services, signal }) =>
  services.processes.wait(params.process_id, params.timeout_s, signal);
