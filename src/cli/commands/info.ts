import { printJson } from '../output.js';
import { oneId, recordBlock } from '../process-format.js';
import type { Verb } from '../verb.js';
import { cliReason } from '../wire-names.js';

/** `info`: one process's record. */
export const verb: Verb = {
  usage: 'info ID [--json]',
  description: "Shows one process's record: status, pid, command, times, output sizes, and why it ended if the daemon ended it.",
  positionals: true,
  async run(ctx) {
    const r = await (await ctx.client()).processInfo(oneId(ctx.positionals));
    if (ctx.json) printJson(ctx.out, r);
    // The daemon's reason names wire commands (`kill_process (SIGTERM)`); people see the verbs.
    else ctx.out.stdout(recordBlock(r.reason === null ? r : { ...r, reason: cliReason(r.reason) }));
    return 0;
  },
};
