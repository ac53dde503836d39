import { formatDuration, printJson } from '../output.js';
import type { ResultOf } from '../../protocol/index.js';
import type { Verb } from '../verb.js';

/** `ping`: the cheapest proof that a daemon answers on the socket. */
export const verb: Verb = {
  usage: 'ping [--json]',
  description: 'Checks that the daemon answers and prints its version, pid, uptime, how many processes it runs at once (`start --max-running`), its socket and keeper (the process that restarts it if it dies; `start --detach`); on a second line, when claude runs are held at a usage limit, until when.',
  async run(ctx) {
    const r = await (await ctx.client()).ping();
    if (ctx.json) printJson(ctx.out, r);
    else ctx.out.stdout(`pong: claude-daemon ${r.version}, pid ${r.pid}, up ${formatDuration(r.uptime_s * 1000)}, ${r.max_running == null ? 'no max running' : `max running ${r.max_running}`}, socket ${r.socket}, ${keeperText(r.keeper)}\n`);
    if (r.claude_hold?.reason != null) ctx.out.stdout(`${r.claude_hold.reason}\n`);
    return 0;
  },
};

function keeperText(k: ResultOf<'ping'>['keeper']): string {
  if (k === undefined || k === null) return 'no keeper';
  return k.restarts === 0 ? `keeper pid ${k.pid}` : `keeper pid ${k.pid} (${k.restarts} restart${k.restarts === 1 ? '' : 's'}, last after ${k.last_death ?? 'an unknown end'})`;
}
