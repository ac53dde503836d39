import { printJson } from '../output.js';
import { mirroredExitCode, numberFlag, oneId, statusText } from '../process-format.js';
import type { Verb } from '../verb.js';

/** `wait`: blocks until the process ends and exits with its exit code. */
export const verb: Verb = {
  usage: 'wait ID [--timeout S] [--json]',
  description:
    "Waits for the process to end and exits with its exit code: the child's own code, 128+N if signal N killed it, 143 if it was killed while queued (it never ran), 127 if it could not start, 1 if its outcome was lost, 124 if --timeout passed first.",
  help: ['  --timeout S   stop waiting after S seconds (exit code 124; the process keeps running)'],
  positionals: true,
  options: { timeout: { type: 'string' } },
  async run(ctx) {
    const id = oneId(ctx.positionals);
    const timeout = numberFlag(ctx.values['timeout'], '--timeout');
    const r = await (await ctx.client()).waitProcess({ process_id: id, ...(timeout !== undefined ? { timeout_s: timeout } : {}) });
    if (ctx.json) printJson(ctx.out, r);
    else if (r.timed_out) ctx.out.stdout(`${r.process_id} still ${r.status} (timed out)\n`);
    else if (r.status === 'killed' && r.signal === null) ctx.out.stdout(`${r.process_id} killed before it started (it never ran)\n`);
    else ctx.out.stdout(`${r.process_id} ${statusText(r)}\n`);
    return mirroredExitCode(r);
  },
};
