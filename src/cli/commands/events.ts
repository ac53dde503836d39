import { EVENT_TYPES, type EventType } from '../../protocol/events.js';
import { eventText } from '../event-format.js';
import { printJson } from '../output.js';
import { numberFlag } from '../process-format.js';
import { UsageError, type Verb } from '../verb.js';

/** `events`: prints journaled events (from --since), and with --follow keeps printing live ones. */
export const verb: Verb = {
  usage: 'events [--follow] [--since N] [--type T]... [--process ID]... [--json]',
  description:
    'Prints the events the daemon journaled after seq --since N (default 0: all it holds), then exits; --follow keeps printing new events until interrupted (without --since: only new ones). --json prints each event line as the daemon sent it.',
  help: [
    `  --type T      only events of type T (repeatable): ${EVENT_TYPES.join(', ')}`,
    '                (default: every type but output; output lines are byte counts, throttled)',
    '  --process ID  only events about process ID (repeatable)',
  ],
  options: { follow: { type: 'boolean', short: 'f' }, since: { type: 'string' }, type: { type: 'string', multiple: true }, process: { type: 'string', multiple: true } },
  async run(ctx) {
    const follow = ctx.values['follow'] === true;
    const since = numberFlag(ctx.values['since'], '--since', { int: true });
    const types = listFlag(ctx.values['type']);
    for (const t of types ?? []) if (!(EVENT_TYPES as readonly string[]).includes(t)) throw new UsageError(`--type takes one of ${EVENT_TYPES.join(', ')}; not '${t}'`);
    const processIds = listFlag(ctx.values['process']);
    const client = await ctx.client();
    const sinceSeq = since ?? (follow ? undefined : 0);
    const stream = client.watch({ ...(sinceSeq !== undefined ? { since_seq: sinceSeq } : {}), ...(types ? { types: types as EventType[] } : {}), ...(processIds ? { process_ids: processIds } : {}) });
    await stream.ready;
    for await (const ev of stream) {
      if (ev.type === 'caught_up') {
        if (!follow) break;
        continue;
      }
      if (ctx.json) printJson(ctx.out, ev);
      else ctx.out.stdout(eventText(ev));
    }
    return 0;
  },
};

function listFlag(v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  return (Array.isArray(v) ? v : [v]).map(String);
}
