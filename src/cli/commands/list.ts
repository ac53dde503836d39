import type { ProcessStatus } from '../../protocol/schemas/processes.js';
import { printJson } from '../output.js';
import { totalText } from '../claude-format.js';
import { processTable } from '../process-format.js';
import { UsageError, type Verb } from '../verb.js';

const STATUSES = ['queued', 'running', 'exited', 'killed', 'failed', 'lost', 'skipped'];

/** `list`: every process at a glance. */
export const verb: Verb = {
  usage: 'list [--status STATUS] [--json]',
  description: 'Lists processes (id, status, pid, running time or duration, command), oldest first, with totals by status.',
  options: { status: { type: 'string' } },
  async run(ctx) {
    const status = ctx.values['status'];
    if (status !== undefined && !STATUSES.includes(String(status))) throw new UsageError(`--status is one of ${STATUSES.join(', ')}`);
    const r = await (await ctx.client()).listProcesses(status === undefined ? {} : { status: status as ProcessStatus });
    if (ctx.json) {
      printJson(ctx.out, r);
      return 0;
    }
    if (r.processes.length > 0) ctx.out.stdout(processTable(r.processes));
    const totals = Object.entries(r.totals).filter(([, n]) => n > 0).map(([k, n]) => totalText(k, n));
    ctx.out.stdout(totals.length > 0 ? `(${totals.join(', ')})\n` : 'no processes\n');
    return 0;
  },
};
