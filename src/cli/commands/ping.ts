import { formatDuration, printJson } from '../output.js';
import type { ResultOf } from '../../protocol/index.js';
import type { Verb } from '../verb.js';

/** `ping`: the cheapest proof that a daemon answers on the socket. */
export const verb: Verb = {
  usage: 'ping [--json]',
  description: 'Checks that the daemon answers and prints its version, pid, uptime, socket and keeper (the process that restarts it if it dies; `start --detach`).',
  async run(ctx) {
    const r = await (await ctx.client()).ping();
    if (ctx.json) printJson(ctx.out, r);
    else ctx.out.stdout(`pong: claude-daemon ${r.version}, pid ${r.pid}, up ${formatDuration(r.uptime_s * 1000)}, socket ${r.socket}, ${keeperText(r.keeper)}\n`);
    return 0;
  },
};

function keeperText(k: ResultOf<'ping'>['keeper']): string {
  if (k === undefined || k === null) return 'no keeper';
  return k.restarts === 0 ? `keeper pid ${k.pid}` : `keeper pid ${k.pid} (${k.restarts} restart${k.restarts === 1 ? '' : 's'}, last after ${k.last_death ?? 'an unknown end'})`;
}
