import { printJson } from '../output.js';
import { UsageError, type Verb } from '../verb.js';

/** `answer ID REQUEST_ID allow|deny`: answers a permission prompt of a `claude --ask-permissions` run. */
export const verb: Verb = {
  usage: 'answer ID REQUEST_ID allow|deny [--message M] [--json]',
  description:
    'Allows or denies the pending permission prompt REQUEST_ID of the claude run ID (started with `claude --ask-permissions`; `info ID --json` lists its pending_permissions). Allow runs the tool with the input claude asked with; deny tells claude --message (or that the parent denied it).',
  help: ['  --message M   with deny: the reason claude is told'],
  options: { message: { type: 'string' } },
  positionals: true,
  async run(ctx) {
    if (ctx.positionals.length !== 3) throw new UsageError('give the run\'s process ID, the REQUEST_ID and allow or deny');
    const [id, requestId, behavior] = ctx.positionals as [string, string, string];
    if (behavior !== 'allow' && behavior !== 'deny') throw new UsageError(`the answer is allow or deny, not ${JSON.stringify(behavior)}`);
    const message = ctx.values['message'];
    if (message !== undefined && (typeof message !== 'string' || message === '')) throw new UsageError('--message takes a non-empty text');
    if (message !== undefined && behavior === 'allow') throw new UsageError('--message goes with deny only');
    const r = await (await ctx.client()).answerPermission({ process_id: id, request_id: requestId, behavior, ...(typeof message === 'string' ? { message } : {}) });
    if (ctx.json) printJson(ctx.out, r);
    else ctx.out.stdout(`${id} ${r.tool_name} ${r.request_id}: ${r.behavior === 'allow' ? 'allowed' : 'denied'}\n`);
    return 0;
  },
};
