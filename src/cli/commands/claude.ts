import path from 'node:path';
import type { ClaudeResultReply } from '../../protocol/schemas/claude.js';
import { printJson, type Output } from '../output.js';
import { UsageError, type Verb } from '../verb.js';

/** `claude "PROMPT"`: a claude run through the daemon, from a shell. */
export const verb: Verb = {
  usage: 'claude PROMPT [--model M] [--cwd DIR] [--id ID] [--stall S] [--timeout S] [--wait] [--json]',
  description:
    'Starts `claude -p PROMPT --output-format stream-json` under the daemon and prints its process id. With --wait, waits for the run and prints its final text; the exit code is then 0 when the run succeeded and 1 when its result says is_error (judged from the result line, not claude\'s exit code).',
  help: [
    '  --model M      model name or alias passed to claude',
    '  --cwd DIR      working directory of the run (default: the current directory)',
    '  --id ID        process id (default: generated)',
    '  --stall S      stop the run when its stream shows nothing new for S seconds',
    '  --timeout S    stop the run after S seconds',
    '  --wait         wait for the end and print the result text',
  ],
  options: {
    model: { type: 'string' },
    cwd: { type: 'string' },
    id: { type: 'string' },
    stall: { type: 'string' },
    timeout: { type: 'string' },
    wait: { type: 'boolean' },
  },
  positionals: true,
  async run(ctx) {
    if (ctx.positionals.length !== 1) throw new UsageError('give exactly one PROMPT (quote it)');
    const num = (name: string): number | undefined => {
      const v = ctx.values[name];
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number of seconds`);
      return n;
    };
    const client = await ctx.client();
    const rec = await client.spawnClaude({
      prompt: ctx.positionals[0]!,
      cwd: path.resolve((ctx.values['cwd'] as string | undefined) ?? process.cwd()),
      ...(typeof ctx.values['model'] === 'string' ? { model: ctx.values['model'] } : {}),
      ...(typeof ctx.values['id'] === 'string' ? { process_id: ctx.values['id'] } : {}),
      ...(num('stall') !== undefined ? { stall_timeout_s: num('stall') } : {}),
      ...(num('timeout') !== undefined ? { timeout_s: num('timeout') } : {}),
    });
    if (ctx.values['wait'] !== true) {
      if (ctx.json) printJson(ctx.out, rec);
      else ctx.out.stdout(`${rec.process_id}\n`);
      return 0;
    }
    const r = await client.claudeResult({ process_id: rec.process_id, wait: true });
    return printResult(ctx.out, ctx.json, rec.process_id, r);
  },
};

/** Prints a claude_result for people (the text; the verdict on stderr when it failed) or as JSON. */
export function printResult(out: Output, json: boolean, id: string, r: ClaudeResultReply): number {
  if (json) {
    printJson(out, { process_id: id, ...r });
  } else {
    if (r.result !== null) out.stdout(r.result.endsWith('\n') ? r.result : `${r.result}\n`);
    if (r.running) out.stderr(`${id} is still running (${r.state})\n`);
    else if (r.is_error === true) out.stderr(`${id} failed: ${failure(r)}\n`);
  }
  return r.running ? 124 /* EXIT.timedOut, as `wait` */ : r.is_error === true ? 1 : 0;
}

function failure(r: ClaudeResultReply): string {
  const why = r.api_error_status !== null ? `API error ${r.api_error_status}` : r.subtype === null ? 'it ended without a result line' : r.subtype;
  return r.state === 'stalled' ? `${why} (stalled: stopped by the stall watchdog)` : why;
}
