import { printJson } from '../output.js';
import { oneId, recordBlock } from '../process-format.js';
import type { Verb } from '../verb.js';

/** `info`: one process's record. */
export const verb: Verb = {
  usage: 'info ID [--json]',
  description: "Shows one process's record: status, pid, command, times, output sizes, and why it ended if the daemon ended it.",
  positionals: true,
  async run(ctx) {
    const r = await (await ctx.client()).processInfo(oneId(ctx.positionals));
    if (ctx.json) printJson(ctx.out, r);
    else ctx.out.stdout(recordBlock(r));
    return 0;
  },
};
