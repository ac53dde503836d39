import type { DaemonClient } from '../../client/client.js';
import type { ProcessRecord } from '../../protocol/schemas/processes.js';
import { printJson } from '../output.js';
import { mirroredExitCode, numberFlag, oneId, statusText } from '../process-format.js';
import { EXIT, UsageError, type Verb, type VerbContext } from '../verb.js';

/** `wait`: blocks until the process ends (`--any`: the first of several) and exits with its exit code. */
export const verb: Verb = {
  usage: 'wait ID [--timeout S] [--json]  |  wait --any ID... [--timeout S] [--json]',
  description:
    "Waits for the process to end and exits with its exit code: the child's own code, 128+N if signal N killed it, 143 if it was killed while queued (it never ran), 127 if it could not start, 1 if its outcome was lost, 124 if --timeout passed first. With --any, waits for the first of the given processes to end (told by the daemon's event stream, no polling) and reports that one.",
  help: ['  --timeout S   stop waiting after S seconds (exit code 124; the process keeps running)', '  --any         several ids: return when the first of them ends'],
  positionals: true,
  options: { timeout: { type: 'string' }, any: { type: 'boolean' } },
  async run(ctx) {
    const timeout = numberFlag(ctx.values['timeout'], '--timeout');
    if (ctx.values['any'] === true) return waitAny(ctx, timeout);
    const id = oneId(ctx.positionals);
    const r = await (await ctx.client()).waitProcess({ process_id: id, ...(timeout !== undefined ? { timeout_s: timeout } : {}) });
    return report(ctx, r);
  },
};

function report(ctx: VerbContext, r: ProcessRecord & { timed_out?: true }): number {
  if (ctx.json) printJson(ctx.out, r);
  else if (r.timed_out) ctx.out.stdout(`${r.process_id} still ${r.status} (timed out)\n`);
  else if (r.status === 'killed' && r.signal === null) ctx.out.stdout(`${r.process_id} killed before it started (it never ran)\n`);
  else ctx.out.stdout(`${r.process_id} ${statusText(r)}\n`);
  return mirroredExitCode(r);
}

const ENDED = new Set(['exited', 'killed', 'failed', 'lost']);

/**
 * The first of `ids` to end. The watch starts before the records are read, so an end between the
 * two is seen either way. With --timeout: exit 124 and the ids still running (`--json`: their records).
 */
async function waitAny(ctx: VerbContext, timeoutS: number | undefined): Promise<number> {
  const ids = [...new Set(ctx.positionals)];
  if (ids.length === 0) throw new UsageError('give one or more process ids after --any');
  const client = await ctx.client();
  const stream = client.watch({ types: ['ended'], process_ids: ids });
  await stream.ready;
  const records = await Promise.all(ids.map((id) => client.processInfo(id)));
  const done = records.find((r) => ENDED.has(r.status));
  if (done !== undefined) {
    await stream.return();
    return report(ctx, done);
  }
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    if (timeoutS !== undefined) timer = setTimeout(() => resolve('timeout'), timeoutS * 1000);
  });
  const first = (async (): Promise<string | undefined> => {
    for await (const ev of stream) if (ev.type === 'ended' && ev.process_id !== undefined) return ev.process_id;
    return undefined;
  })();
  const winner = await Promise.race([first, timedOut]);
  clearTimeout(timer);
  if (winner === 'timeout' || winner === undefined) {
    await stream.return();
    return timedOutReport(ctx, client, ids);
  }
  await stream.return();
  return report(ctx, await client.processInfo(winner));
}

async function timedOutReport(ctx: VerbContext, client: DaemonClient, ids: string[]): Promise<number> {
  const now = await Promise.all(ids.map((id) => client.processInfo(id)));
  if (ctx.json) printJson(ctx.out, { timed_out: true, processes: now });
  else ctx.out.stdout(`none of ${ids.join(', ')} ended (timed out)\n`);
  return EXIT.timedOut;
}
