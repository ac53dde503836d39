import type { Handler } from '../../registry.js';

/** `process_info`: one record. */
export const processInfo: Handler<'process_info'> = (params, { services }) => services.processes.get(params.process_id);
