import { printJson } from '../output.js';
import { oneId } from '../process-format.js';
import type { Verb } from '../verb.js';

/** `close-input ID`: ends a live claude session after its queued turns. */
export const verb: Verb = {
  usage: 'close-input ID [--json]',
  description: 'Closes the input of the live claude session ID once its queued turns have run: claude then exits 0. No more `send` is taken. `wait ID` waits for the end.',
  positionals: true,
  async run(ctx) {
    const id = oneId(ctx.positionals);
    const r = await (await ctx.client()).closeInput({ process_id: id });
    if (ctx.json) printJson(ctx.out, r);
    else ctx.out.stdout(`${id} input closing after ${r.pending_turns} turn${r.pending_turns === 1 ? '' : 's'}${r.closed_now ? '' : ' (already closing)'}\n`);
    return 0;
  },
};
