import type { GroupInfo } from '../../protocol/schemas/scheduling.js';
import { printJson } from '../output.js';
import { numberFlag } from '../process-format.js';
import { UsageError, type Verb } from '../verb.js';

/** `group`: shows the scheduling groups, or changes one (`group_set` / `group_list`). */
export const verb: Verb = {
  usage: 'group [NAME] [--parallel N] [--pause | --resume] [--budget USD|none] [--json]',
  description: 'Without options, lists the scheduling groups (or shows NAME): limit, running, queued, and why queued ones wait. With options, changes NAME (created on first use); settings persist across daemon restarts.',
  help: [
    '  --parallel N  at most N of the group\'s processes run at once (0 = unlimited); --max-running still caps the total',
    '  --pause       start none of its queued processes (running ones continue)',
    '  --resume      start them again',
    '  --budget USD  spending budget of its claude runs: once their reported cost reaches it, its queued claude runs',
    '                stay queued (raise it to release them); each starts with --max-budget-usd at what is left; none clears it',
  ],
  positionals: true,
  options: { parallel: { type: 'string' }, pause: { type: 'boolean' }, resume: { type: 'boolean' }, budget: { type: 'string' } },
  async run(ctx) {
    if (ctx.positionals.length > 1) throw new UsageError('give at most one group name');
    const name = ctx.positionals[0];
    const parallel = numberFlag(ctx.values['parallel'], '--parallel', { int: true, min: 0 });
    const pause = ctx.values['pause'] === true;
    const resume = ctx.values['resume'] === true;
    if (pause && resume) throw new UsageError('give --pause or --resume, not both');
    const budget = budgetFlag(ctx.values['budget']);
    const client = await ctx.client();
    let groups: GroupInfo[];
    if (parallel !== undefined || pause || resume || budget !== undefined) {
      if (name === undefined) throw new UsageError('name the group to change, e.g. `group batch --parallel 2`');
      groups = [await client.groupSet({ group: name, ...(parallel !== undefined ? { parallel } : {}), ...(pause || resume ? { paused: pause } : {}), ...(budget !== undefined ? { budget_usd: budget } : {}) })];
    } else {
      groups = (await client.groupList()).groups;
      if (name !== undefined) groups = groups.filter((g) => g.group === name);
      if (name !== undefined && groups.length === 0) groups = [{ group: name, parallel: 0, paused: false, running: 0, queued: 0, waiting: 0, held: null, budget_usd: null, spent_usd: 0 }];
    }
    if (ctx.json) {
      printJson(ctx.out, name === undefined ? { groups } : groups[0]);
      return 0;
    }
    for (const g of groups) {
      const limit = g.parallel === 0 ? 'unlimited' : `parallel ${g.parallel}`;
      const waiting = g.waiting > 0 ? ` (${g.waiting} waiting for dependencies or a start time)` : '';
      const spend = g.budget_usd !== null ? `; spent $${g.spent_usd} of $${g.budget_usd}` : g.spent_usd > 0 ? `; spent $${g.spent_usd}` : '';
      ctx.out.stdout(`${g.group}: ${limit}${g.paused ? ', paused' : ''}; ${g.running} running, ${g.queued} queued${waiting}${spend}${g.held !== null ? `; held: ${g.held}` : ''}\n`);
    }
    return 0;
  },
};

/** `--budget USD` (a non-negative amount) or `none` (clears it: null). */
function budgetFlag(v: unknown): number | null | undefined {
  if (v === undefined) return undefined;
  if (v === 'none') return null;
  return numberFlag(v, '--budget');
}
