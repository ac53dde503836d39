import { printJson } from '../output.js';
import type { Verb } from '../verb.js';

/** `shutdown`: stops the daemon; children keep running (and are re-adopted next start) unless told. */
export const verb: Verb = {
  usage: 'shutdown [--kill-processes] [--json]',
  description: 'Stops the daemon after it answers what is in flight. Running children keep running and are re-adopted by the next daemon, unless --kill-processes is given.',
  options: { 'kill-processes': { type: 'boolean' } },
  async run(ctx) {
    const r = await (await ctx.client()).shutdown({ kill_processes: ctx.values['kill-processes'] === true });
    if (ctx.json) printJson(ctx.out, r);
    else ctx.out.stdout(`daemon shutting down${r.kill_processes ? ' (killing its processes)' : ''}\n`);
    return 0;
  },
};
