import type { ProcessStatus } from '../../protocol/schemas/processes.js';
import { printJson } from '../output.js';
import { totalText } from '../claude-format.js';
import { treeOrder } from '../lineage-format.js';
import { processTable } from '../process-format.js';
import { UsageError, type Verb } from '../verb.js';

const STATUSES = ['queued', 'running', 'exited', 'killed', 'failed', 'lost', 'skipped'];

/** `list`: every process at a glance. */
export const verb: Verb = {
  usage: 'list [--status STATUS] [--tree] [--limit N [--cursor C]] [--json]',
  description: 'Lists processes (id, status, pid, running time or duration, command), oldest first, with totals by status. With --tree, each process under its parent, indented. With --limit, at most N of them and, when there are more, the --cursor that lists the next ones.',
  help: ['  --tree        show lineage: children under their parent (records whose parent is not listed are roots)', '  --limit N     at most N processes; --cursor C continues from an earlier page'],
  options: { status: { type: 'string' }, tree: { type: 'boolean' }, limit: { type: 'string' }, cursor: { type: 'string' } },
  async run(ctx) {
    const status = ctx.values['status'];
    if (status !== undefined && !STATUSES.includes(String(status))) throw new UsageError(`--status is one of ${STATUSES.join(', ')}`);
    const params: { status?: ProcessStatus; limit?: number; cursor?: string } = {};
    if (status !== undefined) params.status = status as ProcessStatus;
    const limit = ctx.values['limit'];
    if (limit !== undefined) {
      const n = Number(limit);
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`--limit takes a whole number of at least 1, not '${String(limit)}'`);
      params.limit = n;
    }
    if (typeof ctx.values['cursor'] === 'string') params.cursor = ctx.values['cursor'];
    const r = await (await ctx.client()).listProcesses(params);
    if (ctx.json) {
      printJson(ctx.out, r);
      return 0;
    }
    if (r.processes.length > 0) ctx.out.stdout(ctx.values['tree'] === true ? processTable(treeOrder(r.processes)) : processTable(r.processes));
    const totals = Object.entries(r.totals).filter(([, n]) => n > 0).map(([k, n]) => totalText(k, n));
    ctx.out.stdout(totals.length > 0 ? `(${totals.join(', ')})\n` : 'no processes\n');
    if (typeof r.next_cursor === 'string') ctx.out.stdout(`more: list --limit ${params.limit ?? ''} --cursor ${r.next_cursor}\n`);
    return 0;
  },
};
