import { printJson } from '../output.js';
import { oneId } from '../process-format.js';
import type { Verb } from '../verb.js';

/** `interrupt ID`: stops the running turn of a live claude session (the session stays). */
export const verb: Verb = {
  usage: 'interrupt ID [--json]',
  description: 'Stops the running turn of the live claude session ID (claude\'s interrupt control request); the session stays alive and runs the next queued turn. Prints the interrupted turn, or "idle" when no turn was running.',
  positionals: true,
  async run(ctx) {
    const id = oneId(ctx.positionals);
    const r = await (await ctx.client()).interrupt({ process_id: id });
    if (ctx.json) printJson(ctx.out, r);
    else ctx.out.stdout(r.interrupted ? `${id} turn ${r.turn} interrupted\n` : `${id} idle (no turn running)\n`);
    return 0;
  },
};
