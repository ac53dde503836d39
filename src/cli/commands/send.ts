import { printJson } from '../output.js';
import { UsageError, type Verb } from '../verb.js';

/** `send ID TEXT`: one more user turn for a live claude session. */
export const verb: Verb = {
  usage: 'send ID TEXT [--wait] [--json]',
  description:
    'Queues TEXT as the next user turn of the live claude session ID (started with `claude --interactive`) and prints the turn number. It runs once the running turn (and those queued before it) have ended. With --wait, waits for the turn and prints its text (exit 1 if it failed).',
  help: ['  --wait    wait for this turn to end and print its result text'],
  options: { wait: { type: 'boolean' } },
  positionals: true,
  async run(ctx) {
    if (ctx.positionals.length !== 2) throw new UsageError('give the session\'s process ID and the TEXT (quote it)');
    const [id, text] = ctx.positionals as [string, string];
    if (text === '') throw new UsageError('the TEXT is empty');
    const client = await ctx.client();
    const r = await client.sendMessage({ process_id: id, text });
    if (ctx.values['wait'] !== true) {
      if (ctx.json) printJson(ctx.out, r);
      else ctx.out.stdout(`${r.turn}\n`);
      return 0;
    }
    const t = await client.claudeResult({ process_id: id, turn: r.turn, wait: true });
    if (ctx.json) printJson(ctx.out, { process_id: id, ...t });
    else if (t.result !== null) ctx.out.stdout(t.result.endsWith('\n') ? t.result : `${t.result}\n`);
    if (!ctx.json && t.turn?.state !== 'done') ctx.out.stderr(`${id} turn ${r.turn}: ${t.turn?.state ?? 'unknown'}\n`);
    return t.turn?.state === 'done' ? 0 : 1;
  },
};
