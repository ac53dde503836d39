import type { Handler } from '../../registry.js';

/** `list_processes`: every record (or one status, or the children of one `parent`) plus counts by status. */
export const listProcesses: Handler<'list_processes'> = (params, { services }) => {
  const r = services.processes.list(params.status);
  if (params.parent !== undefined) r.processes = r.processes.filter((p) => p.parent === params.parent);
  return r;
};
