import { printJson } from '../output.js';
import { numberFlag, oneId, statusText } from '../process-format.js';
import type { Verb } from '../verb.js';

/** `kill`: stops a process and its whole tree, escalating to SIGKILL. */
export const verb: Verb = {
  usage: 'kill ID [--signal SIG] [--grace S] [--json]',
  description: 'Sends SIG (default SIGTERM; claude runs: SIGINT, then SIGTERM) to the process, its group and every descendant, then SIGKILL to survivors after --grace seconds (default 5). Returns once it has ended.',
  positionals: true,
  options: { signal: { type: 'string' }, grace: { type: 'string' } },
  async run(ctx) {
    const id = oneId(ctx.positionals);
    const grace = numberFlag(ctx.values['grace'], '--grace');
    const signal = ctx.values['signal'];
    const r = await (await ctx.client()).killProcess({
      process_id: id,
      ...(typeof signal === 'string' ? { signal } : {}),
      ...(grace !== undefined ? { grace_s: grace } : {}),
    });
    if (ctx.json) printJson(ctx.out, r);
    else ctx.out.stdout(`${r.process_id} ${statusText(r)}\n`);
    return 0;
  },
};
