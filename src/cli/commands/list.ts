import type { ProcessStatus } from '../../protocol/schemas/processes.js';
import { printJson } from '../output.js';
import { totalText } from '../claude-format.js';
import { treeOrder } from '../lineage-format.js';
import { processTable } from '../process-format.js';
import { UsageError, type Verb } from '../verb.js';

const STATUSES = ['queued', 'running', 'exited', 'killed', 'failed', 'lost'];

/** `list`: every process at a glance. */
export const verb: Verb = {
  usage: 'list [--status STATUS] [--tree] [--json]',
  description: 'Lists processes (id, status, pid, running time or duration, command), oldest first, with totals by status. With --tree, each process under its parent, indented.',
  help: ['  --tree        show lineage: children under their parent (records whose parent is not listed are roots)'],
  options: { status: { type: 'string' }, tree: { type: 'boolean' } },
  async run(ctx) {
    const status = ctx.values['status'];
    if (status !== undefined && !STATUSES.includes(String(status))) throw new UsageError(`--status is one of ${STATUSES.join(', ')}`);
    const r = await (await ctx.client()).listProcesses(status === undefined ? {} : { status: status as ProcessStatus });
    if (ctx.json) {
      printJson(ctx.out, r);
      return 0;
    }
    if (r.processes.length > 0) ctx.out.stdout(ctx.values['tree'] === true ? processTable(treeOrder(r.processes)) : processTable(r.processes));
    const totals = Object.entries(r.totals).filter(([, n]) => n > 0).map(([k, n]) => totalText(k, n));
    ctx.out.stdout(totals.length > 0 ? `(${totals.join(', ')})\n` : 'no processes\n');
    return 0;
  },
};
