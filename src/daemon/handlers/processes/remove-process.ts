import { removeWithLineage } from '../../supervisor/cascade.js';
import type { Handler } from '../../registry.js';

/** `remove_process`: forgets an ended process and deletes its files; lineage rules in cascade.ts. */
export const removeProcess: Handler<'remove_process'> = (params, { services }) => removeWithLineage(services.processes, params.process_id, params.cascade === true);
