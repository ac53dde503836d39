import { printJson } from '../output.js';
import { numberFlag, signalFlag, statusText } from '../process-format.js';
import { UsageError, type Verb } from '../verb.js';

/** `kill`: stops a process (or several at once) and its whole tree, escalating to SIGKILL. */
export const verb: Verb = {
  usage: 'kill ID [ID...] [--signal SIG] [--grace S] [--cascade] [--json]',
  description: 'Sends SIG (default SIGTERM; claude runs: SIGINT, then SIGTERM) to the process, its group and every descendant, then SIGKILL to survivors after --grace seconds (default 5). Returns once it has ended. Several ids are stopped at once (one request; every first signal goes out before any end is handled), one line each.',
  help: [
    '  --signal SIG  the first signal: a name with or without SIG (TERM, KILL, INT) or a number (15, 9, 2)',
    '  --grace S     seconds between that signal and SIGKILL to whatever still runs (default 5)',
    '  --cascade     first end every descendant (processes spawned with this one as parent), deepest first',
  ],
  positionals: true,
  options: { signal: { type: 'string' }, grace: { type: 'string' }, cascade: { type: 'boolean' } },
  async run(ctx) {
    const ids = ctx.positionals;
    if (ids.length === 0) throw new UsageError('give a process id');
    const grace = numberFlag(ctx.values['grace'], '--grace');
    const signal = signalFlag(ctx.values['signal']);
    const opts = {
      ...(typeof signal === 'string' ? { signal } : {}),
      ...(grace !== undefined ? { grace_s: grace } : {}),
    };
    const client = await ctx.client();
    if (ids.length === 1) {
      const r = await client.killProcess({ process_id: ids[0]!, ...opts, ...(ctx.values['cascade'] === true ? { cascade: true } : {}) });
      if (ctx.json) printJson(ctx.out, r);
      else ctx.out.stdout(`${r.process_id} ${statusText(r)}${r.cascade !== undefined ? ` (with ${r.cascade.length} descendant${r.cascade.length === 1 ? '' : 's'}${r.cascade.length > 0 ? `: ${r.cascade.join(', ')}` : ''})` : ''}\n`);
      return 0;
    }
    if (ctx.values['cascade'] === true) throw new UsageError('--cascade takes one process id');
    const r = await client.killProcess({ process_ids: ids, ...opts });
    if (ctx.json) printJson(ctx.out, r);
    else ctx.out.stdout(r.processes.map((p) => `${p.process_id} ${statusText(p)}\n`).join(''));
    return 0;
  },
};
