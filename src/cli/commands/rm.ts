import { printJson } from '../output.js';
import { oneId } from '../process-format.js';
import type { Verb } from '../verb.js';

/** `rm`: forgets an ended process. */
export const verb: Verb = {
  usage: 'rm ID [--json]',
  description: 'Forgets an ended process and deletes its output files. A running one is refused: kill or wait for it first.',
  positionals: true,
  async run(ctx) {
    const r = await (await ctx.client()).removeProcess(oneId(ctx.positionals));
    if (ctx.json) printJson(ctx.out, r);
    else ctx.out.stdout(`removed ${r.process_id}\n`);
    return 0;
  },
};
