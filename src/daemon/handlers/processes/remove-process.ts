import type { Handler } from '../../registry.js';

/** `remove_process`: forgets an ended process and deletes its files. */
export const removeProcess: Handler<'remove_process'> = (params, { services }) => services.processes.remove(params.process_id);
