import { printJson } from '../output.js';
import { numberFlag, oneId, signalFlag, statusText } from '../process-format.js';
import type { Verb } from '../verb.js';

/** `kill`: stops a process and its whole tree, escalating to SIGKILL. */
export const verb: Verb = {
  usage: 'kill ID [--signal SIG] [--grace S] [--json]',
  description: 'Sends SIG (default SIGTERM; claude runs: SIGINT, then SIGTERM) to the process, its group and every descendant, then SIGKILL to survivors after --grace seconds (default 5). Returns once it has ended.',
  help: [
    '  --signal SIG  the first signal: a name with or without SIG (TERM, KILL, INT) or a number (15, 9, 2)',
    '  --grace S     seconds between that signal and SIGKILL to whatever still runs (default 5)',
  ],
  positionals: true,
  options: { signal: { type: 'string' }, grace: { type: 'string' } },
  async run(ctx) {
    const id = oneId(ctx.positionals);
    const grace = numberFlag(ctx.values['grace'], '--grace');
    const signal = signalFlag(ctx.values['signal']);
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
