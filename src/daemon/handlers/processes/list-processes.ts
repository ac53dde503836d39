import type { Handler } from '../../registry.js';

/** `list_processes`: every record (or one status) plus counts by status. */
export const listProcesses: Handler<'list_processes'> = (params, { services }) => services.processes.list(params.status);
