import { UsageError, type Verb } from '../verb.js';
import { printResult } from './claude.js';

/** `result ID`: the final text of a claude run, like `claude --wait` for a run started earlier. */
export const verb: Verb = {
  usage: 'result ID [--turn N] [--timeout S] [--json]',
  description:
    'Waits for the claude run ID to end and prints its final text (or, when it failed, why on stderr). Exit code 0 when the run succeeded, 1 when its result says is_error (or it ended without one), 124 when --timeout passed first (as for `wait`).',
  help: ['  --timeout S    stop waiting after S seconds (exit code 124; the run keeps going)', '  --turn N       a live session\'s turn N: waits for that turn to end and prints its text'],
  options: { timeout: { type: 'string' }, turn: { type: 'string' } },
  positionals: true,
  async run(ctx) {
    if (ctx.positionals.length !== 1) throw new UsageError('give exactly one process ID');
    const t = ctx.values['timeout'];
    const timeout = t === undefined ? undefined : Number(t);
    if (timeout !== undefined && (!Number.isFinite(timeout) || timeout <= 0)) throw new UsageError('--timeout must be a positive number of seconds');
    const id = ctx.positionals[0]!;
    const client = await ctx.client();
    const tv = ctx.values['turn'];
    const turn = tv === undefined ? undefined : Number(tv);
    if (turn !== undefined && !(Number.isSafeInteger(turn) && turn > 0)) throw new UsageError('--turn must be a turn number (1, 2, ...)');
    const r = await client.claudeResult({ process_id: id, wait: true, ...(timeout !== undefined ? { timeout_s: timeout } : {}), ...(turn !== undefined ? { turn } : {}) });
    return printResult(ctx.out, ctx.json, id, r);
  },
};
