import type { Handler } from '../../registry.js';

/** `list_processes`: every record (or one status, or the children of one `parent`, or one page) plus counts by status. */
export const listProcesses: Handler<'list_processes'> = (params, { services }) =>
  services.processes.list(params.status, params.limit === undefined && params.cursor === undefined ? undefined : { limit: params.limit, cursor: params.cursor }, params.parent);
