import { printJson } from '../output.js';
import { oneId } from '../process-format.js';
import type { Verb } from '../verb.js';

/** `rm`: forgets an ended process. */
export const verb: Verb = {
  usage: 'rm ID [--cascade] [--json]',
  description: 'Forgets an ended process and deletes its output files. A running one is refused: kill or wait for it first; so is one with running or queued descendants, unless --cascade.',
  help: ['  --cascade     also end (kill) and forget every descendant, deepest first, and the process itself if it still runs'],
  options: { cascade: { type: 'boolean' } },
  positionals: true,
  async run(ctx) {
    const r = await (await ctx.client()).removeProcess(oneId(ctx.positionals), ctx.values['cascade'] === true ? { cascade: true } : {});
    if (ctx.json) printJson(ctx.out, r);
    else ctx.out.stdout(`removed ${r.process_id}${r.cascade !== undefined && r.cascade.length > 0 ? ` and ${r.cascade.join(', ')}` : ''}\n`);
    return 0;
  },
};
