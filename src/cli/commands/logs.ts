import { printJson } from '../output.js';
import { numberFlag, oneId } from '../process-format.js';
import type { Verb } from '../verb.js';

/** `logs`: prints captured output, optionally following it like `tail -f` until the process ends. */
export const verb: Verb = {
  usage: 'logs ID [--stderr] [--tail N] [--follow] [--attempt N] [--json]',
  description: "Prints a process's captured stdout (or --stderr): all of it, or the last --tail N lines. --follow keeps printing new output until the process ends. --attempt N prints that attempt's output (records with retries; default the latest). --json prints read_output replies, one per line.",
  positionals: true,
  options: { stderr: { type: 'boolean' }, tail: { type: 'string' }, follow: { type: 'boolean', short: 'f' }, attempt: { type: 'string' } },
  async run(ctx) {
    const id = oneId(ctx.positionals);
    const client = await ctx.client();
    const stream = ctx.values['stderr'] === true ? 'stderr' : 'stdout';
    const tail = numberFlag(ctx.values['tail'], '--tail', { int: true });
    const follow = ctx.values['follow'] === true;
    const attempt = numberFlag(ctx.values['attempt'], '--attempt', { int: true, min: 1 });
    let offset: number | undefined;
    let first = true;
    for (;;) {
      const r = await client.readOutput({
        process_id: id,
        stream,
        max_bytes: 1024 * 1024,
        ...(attempt !== undefined ? { attempt } : {}),
        ...(offset !== undefined ? { offset } : first && tail !== undefined ? { tail_lines: tail } : {}),
      });
      first = false;
      if (ctx.json) {
        if (r.data.length > 0 || r.eof) printJson(ctx.out, r);
      } else if (r.data.length > 0) ctx.out.stdout(r.data);
      const progressed = r.next_offset !== (offset ?? r.offset);
      offset = r.next_offset;
      if (r.eof) return 0;
      if (progressed) continue;
      if (!follow) return 0;
      // Nothing new: sleep up to 250 ms, waking at once if the process ends.
      await client.waitProcess({ process_id: id, timeout_s: 0.25 });
    }
  },
};
