import type { ClaudeResultReply } from '../../protocol/schemas/claude.js';
import { PERMISSION_MODES } from '../../protocol/claude-options.js';
import { failureText } from '../claude-format.js';
import { spawnParams } from '../claude-flags.js';
import { lineageFlags } from '../lineage-format.js';
import { printJson, type Output } from '../output.js';
import { SCHEDULE_HELP, SCHEDULE_OPTIONS } from '../schedule-flags.js';
import type { Verb } from '../verb.js';

/** `claude "PROMPT"`: a claude run through the daemon, from a shell. */
export const verb: Verb = {
  usage: 'claude PROMPT [options] [--wait] [--json] [-- CLAUDE_ARGS...] | claude --interactive [PROMPT] [options]',
  description:
    'Starts `claude -p PROMPT --output-format stream-json` under the daemon and prints its process id. With --wait, waits for the run and prints its final text; the exit code is then 0 when the run succeeded and 1 when its result says is_error (judged from the result line, not claude\'s exit code), with the reason on stderr. Arguments after `--` go to claude as they are (before the prompt), e.g. `-- --add-dir ../lib --fork-session`.',
  help: [
    '  --model M                 model name or alias passed to claude',
    '  --cwd DIR                 working directory of the run (default: the current directory)',
    '  --id ID                   process id (default: generated)',
    '  --name NAME               a label shown by `list` and `info`',
    '  --env K=V                 set an environment variable for the run (repeatable), over the daemon\'s',
    '  --stall S                 stop the run when its stream shows nothing new for S seconds',
    '  --timeout S               stop the run after S seconds',
    '  --max-turns N             stop after N agentic turns (the run fails with error_max_turns)',
    '  --max-budget-usd X        stop once the run has spent X dollars (error_max_budget_usd)',
    '  --allowed-tools T         tools claude may use without asking, e.g. Bash or "Bash(git *)" (repeatable)',
    '  --disallowed-tools T      tools claude may not use (repeatable)',
    `  --permission-mode M       ${PERMISSION_MODES.join(', ')}`,
    '  --system-prompt S         replace the default system prompt',
    '  --append-system-prompt S  append to the default system prompt',
    '  --resume SESSION          continue that session (refused while another run writes to it)',
    '  --session-id UUID         use this session id for a new session',
    '  --mcp-config C            MCP servers: a JSON file (relative paths are from here) or JSON text (repeatable)',
    '  --json-schema JSON        JSON Schema the final answer must follow (structured output)',
    '  --wait                    wait for the end and print the result text (the reason on stderr if it failed); with --interactive, for turn 1',
    '  --interactive             a live session (docs/sessions.md): PROMPT is optional; more turns with `send ID TEXT`, end it with `close-input ID`',
    '  --idle-timeout S          close an --interactive session idle for S seconds',
    '  --ask-permissions         claude asks before tool use (implies --interactive): see `info ID`, answer with `answer ID REQUEST_ID allow|deny`',
    '  --permission-timeout S    deny a prompt left unanswered S seconds (default 300)',
    '  --auto-allow RULE         with --ask-permissions: allow prompts matching RULE at once, e.g. "Bash(git *)" (repeatable)',
    '  --auto-deny RULE          with --ask-permissions: deny prompts matching RULE at once (checked first; repeatable)',
    '  --idempotency-key K       if a record not yet removed holds K, that run is the answer and nothing starts',
    '  --ignore-hold             start even while claude runs are held at a usage limit (urgent work)',
    '  --limit-resume-prompt P   the prompt sent when the run resumes after a usage limit (default: a short "continue")',
    '  --parent ID               record ID as its parent (default: $CLAUDE_DAEMON_PROCESS_ID, set in every tracked process)',
    ...SCHEDULE_HELP,
  ],
  options: {
    model: { type: 'string' },
    cwd: { type: 'string' },
    id: { type: 'string' },
    name: { type: 'string' },
    env: { type: 'string', multiple: true },
    stall: { type: 'string' },
    timeout: { type: 'string' },
    'max-turns': { type: 'string' },
    'max-budget-usd': { type: 'string' },
    'allowed-tools': { type: 'string', multiple: true },
    'disallowed-tools': { type: 'string', multiple: true },
    'permission-mode': { type: 'string' },
    'system-prompt': { type: 'string' },
    'append-system-prompt': { type: 'string' },
    resume: { type: 'string' },
    'session-id': { type: 'string' },
    'mcp-config': { type: 'string', multiple: true },
    'json-schema': { type: 'string' },
    wait: { type: 'boolean' },
    interactive: { type: 'boolean' },
    'idle-timeout': { type: 'string' },
    'ask-permissions': { type: 'boolean' },
    'permission-timeout': { type: 'string' },
    'auto-allow': { type: 'string', multiple: true },
    'auto-deny': { type: 'string', multiple: true },
    'idempotency-key': { type: 'string' },
    parent: { type: 'string' },
    'ignore-hold': { type: 'boolean' },
    'limit-resume-prompt': { type: 'string' },
    ...SCHEDULE_OPTIONS,
  },
  positionals: true,
  async run(ctx) {
    const params = { ...spawnParams(ctx.values, ctx.positionals), ...lineageFlags(ctx.values) };
    const client = await ctx.client();
    const rec = await client.spawnClaude(params);
    if (ctx.values['wait'] !== true) {
      if (ctx.json) printJson(ctx.out, rec);
      else ctx.out.stdout(`${rec.process_id}\n`);
      return 0;
    }
    const r = await client.claudeResult({ process_id: rec.process_id, wait: true, ...(params.interactive === true && params.prompt !== undefined ? { turn: 1 } : {}) });
    return printResult(ctx.out, ctx.json, rec.process_id, r);
  },
};

/**
 * Prints a claude_result for people or as JSON. For people: the final text on stdout; a failure's
 * reason on stderr (the text claude printed for an API error is the reason, so it is not also
 * printed as if it were an answer).
 */
export function printResult(out: Output, json: boolean, id: string, r: ClaudeResultReply): number {
  // A live session's turn that has ended is judged as the turn, though the session runs on.
  if (r.turn !== undefined && r.turn.ended_at !== null) r = { ...r, running: false };
  if (json) {
    printJson(out, { process_id: id, ...r });
  } else {
    const failed = !r.running && r.is_error === true;
    const reason = failed ? failureText(r) : undefined;
    if (r.result !== null && r.result.trim() !== '' && !(failed && reason !== undefined && reason.includes(r.result.trim()))) {
      out.stdout(r.result.endsWith('\n') ? r.result : `${r.result}\n`);
    }
    if (r.running) out.stderr(`${id} is still running (${r.state})\n`);
    else if (failed) out.stderr(`${id} failed: ${reason}\n`);
  }
  return r.running ? 124 /* EXIT.timedOut, as `wait` */ : r.is_error === true ? 1 : 0;
}
