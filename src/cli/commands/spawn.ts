import path from 'node:path';
import type { ParamsIn } from '../../protocol/commands.js';
import type { ProcessRecord } from '../../protocol/schemas/processes.js';
import { printJson } from '../output.js';
import { lineageFlags } from '../lineage-format.js';
import { commandText, numberFlag, statusText } from '../process-format.js';
import { SCHEDULE_HELP, SCHEDULE_OPTIONS, scheduleParams } from '../schedule-flags.js';
import { UsageError, type Verb } from '../verb.js';

/** `spawn`: runs a command under the daemon; it keeps running when this CLI (or the daemon) exits. */
export const verb: Verb = {
  usage: 'spawn [--id ID] [--cwd DIR] [--timeout S] [--name NAME] [--env K=V]... [--stdin TEXT] [--descendants-grace S | --keep-descendants] [--group G] [--priority N] [--after ID]... [--after-condition C] [--start-after S | --start-at TIME] [--retry N [--retry-backoff S] [--retry-on LIST]] [--idempotency-key K] [--parent ID] -- CMD [ARGS...]',
  description: 'Starts CMD (no shell) under the daemon, in the current directory unless --cwd, and prints its id. Output goes to files in the state directory; read it with `logs`. With --max-running reached it is queued.',
  help: [
    '  --            ends the options: everything after it is the command (--socket goes before the verb or before --)',
    '  --id ID       process id (1-64 of A-Z a-z 0-9 . _ -); generated if absent',
    '  --cwd DIR     working directory (default: the current one)',
    '  --timeout S   kill it (SIGTERM, then SIGKILL 5 s later) once it has run S seconds',
    '  --name NAME   a label shown by `info` (free text; the id stays the handle)',
    '  --env K=V     set an environment variable (repeatable), over the daemon\'s environment',
    '  --stdin TEXT  write TEXT to its stdin, then close it (default: /dev/null)',
    '  --descendants-grace S  processes CMD leaves behind get SIGTERM S seconds after it ends (default 5)',
    '  --keep-descendants     keep them instead (kill and rm still end them)',
    '  --idempotency-key K    if a record not yet removed holds K, print that one (deduplicated) and start nothing',
    '  --parent ID            record ID as its parent (default: $CLAUDE_DAEMON_PROCESS_ID, set in every tracked process)',
    ...SCHEDULE_HELP,
  ],
  positionals: true,
  options: {
    id: { type: 'string' },
    cwd: { type: 'string' },
    timeout: { type: 'string' },
    name: { type: 'string' },
    env: { type: 'string', multiple: true },
    stdin: { type: 'string' },
    'descendants-grace': { type: 'string' },
    'keep-descendants': { type: 'boolean' },
    'idempotency-key': { type: 'string' },
    parent: { type: 'string' },
    ...SCHEDULE_OPTIONS,
  },
  async run(ctx) {
    if (ctx.positionals.length === 0) throw new UsageError('give the command to run after --, e.g. `spawn -- sleep 10`');
    const params: ParamsIn<'spawn_process'> = { cmd: ctx.positionals, cwd: path.resolve(typeof ctx.values['cwd'] === 'string' ? ctx.values['cwd'] : '.'), ...scheduleParams(ctx.values) };
    if (typeof ctx.values['id'] === 'string') params.process_id = ctx.values['id'];
    if (typeof ctx.values['name'] === 'string') params.name = ctx.values['name'];
    if (typeof ctx.values['stdin'] === 'string') params.stdin = ctx.values['stdin'];
    const timeout = numberFlag(ctx.values['timeout'], '--timeout', { min: 0.001 });
    if (timeout !== undefined) params.timeout_s = timeout;
    const grace = numberFlag(ctx.values['descendants-grace'], '--descendants-grace', { min: 0 });
    if (grace !== undefined) params.descendants_grace_s = grace;
    if (ctx.values['keep-descendants'] === true) params.keep_descendants = true;
    Object.assign(params, lineageFlags(ctx.values));
    const env = ctx.values['env'];
    if (Array.isArray(env)) {
      params.env = {};
      for (const kv of env) {
        const s = String(kv);
        const eq = s.indexOf('=');
        if (eq < 1) throw new UsageError(`--env takes KEY=VALUE, not '${s}'`);
        params.env[s.slice(0, eq)] = s.slice(eq + 1);
      }
    }
    const r = await (await ctx.client()).spawnProcess(params);
    if (ctx.json) printJson(ctx.out, r);
    else if (r.deduplicated === true) ctx.out.stdout(`${r.process_id} already exists for that idempotency key (${statusText(r)}): ${commandText(r.cmd, 80)}\n`);
    else ctx.out.stdout(r.status === 'skipped' ? `${r.process_id} skipped: ${r.reason ?? ''}\n` : r.status === 'queued' ? `${r.process_id} queued${heldNote(r)}: ${commandText(r.cmd, 80)}\n` : `${r.process_id} running (pid ${r.pid}): ${commandText(r.cmd, 80)}\n`);
    return 0;
  },
};

/** ` (held reason)` for a record the scheduler holds for its own reasons (not only --max-running). */
function heldNote(r: ProcessRecord): string {
  const scheduled = r.after !== undefined || r.start_at !== undefined || (r.group ?? 'default') !== 'default';
  return scheduled && r.held ? ` (${r.held})` : '';
}
