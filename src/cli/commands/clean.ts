import type { ProcessStatus } from '../../protocol/schemas/processes.js';
import { parseDuration } from '../duration.js';
import { printJson } from '../output.js';
import { UsageError, type Verb } from '../verb.js';

/** The statuses `clean` may name (the CLI loads no schemas, so they are listed here). */
const ENDED = ['exited', 'killed', 'failed', 'lost'];

/** `clean`: removes ended records in bulk (pueue's name for it). */
export const verb: Verb = {
  usage: 'clean [--status STATUS]... [--group G] [--older-than DURATION] [--json]',
  description: 'Removes ended records (exited, killed, failed, lost) and their output files: all of them, or only those of the given statuses (repeat --status), group, or ended at least DURATION ago (90s, 30m, 12h, 7d). Queued and running processes are never removed, nor ended ones whose leftover processes still run.',
  options: { status: { type: 'string', multiple: true }, group: { type: 'string' }, 'older-than': { type: 'string' } },
  async run(ctx) {
    const params: { status?: ProcessStatus[]; group?: string; older_than_s?: number } = {};
    const statuses = ctx.values['status'];
    if (statuses !== undefined) {
      const list = (Array.isArray(statuses) ? statuses : [statuses]).flatMap((s) => String(s).split(','));
      for (const s of list) if (!ENDED.includes(s)) throw new UsageError(`--status is one of ${ENDED.join(', ')} (queued and running records are never cleaned)`);
      params.status = list as ProcessStatus[];
    }
    if (typeof ctx.values['group'] === 'string') params.group = ctx.values['group'];
    const older = ctx.values['older-than'];
    if (older !== undefined) {
      const s = parseDuration(String(older));
      if (s === undefined) throw new UsageError(`--older-than takes a duration such as 90s, 30m, 12h or 7d, not '${String(older)}'`);
      params.older_than_s = s;
    }
    const r = await (await ctx.client()).clean(params);
    if (ctx.json) printJson(ctx.out, r);
    else ctx.out.stdout(`removed ${r.removed} ended record${r.removed === 1 ? '' : 's'}\n`);
    return 0;
  },
};
