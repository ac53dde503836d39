/** The claude tools: start a `claude -p` run, and get its outcome. */
import { COMMAND_SCHEMAS } from '../protocol/commands.js';
import { SpawnClaudeFields } from '../protocol/schemas/claude.js';
import { ONE_START_TIME, oneStartTime } from '../protocol/schemas/scheduling.js';
import type { ProcessRecord } from '../protocol/schemas/processes.js';
import { ClaudeResultOut, RecordOut } from './outputs.js';
import { recordLine } from './summaries.js';
import { defineTool, wire, type ToolDef } from './tool.js';

/** Descriptions of spawn_claude's and claude_result's parameters. */
export const CLAUDE_FIELD_DOCS: Record<string, string> = {
  prompt: 'the task for the new claude run (its first user message)',
  process_id: 'an id for the run (1-64 of A-Z a-z 0-9 . _ -); default: the daemon picks one',
  cwd: 'working directory of the run (default: the daemon\'s)',
  env: "variables laid over the daemon's environment",
  name: 'a label for people',
  model: 'model name or alias (claude --model)',
  system_prompt: 'replace the system prompt (claude --system-prompt)',
  append_system_prompt: 'append to the system prompt (claude --append-system-prompt)',
  allowed_tools: 'tools the run may use without asking, e.g. ["Read", "Bash(git *)"] (claude --allowedTools)',
  disallowed_tools: 'tools the run may not use (claude --disallowedTools)',
  permission_mode: 'claude --permission-mode',
  max_turns: 'stop after this many turns (claude --max-turns)',
  mcp_config: 'MCP servers for the run: config file paths, JSON text, or an object (claude --mcp-config)',
  resume: 'continue this session id (claude --resume)',
  max_budget_usd: 'stop once the run has spent this much (claude --max-budget-usd)',
  json_schema: 'make the final result JSON of this schema (claude --json-schema)',
  session_id: 'use this UUID as the session id (claude --session-id)',
  stall_timeout_s: 'mark the run stalled (and stop it) after this many seconds without output',
  timeout_s: 'spawn_claude: end the run after this many seconds; claude_result: how long to wait (with wait)',
  extra_args: 'more claude flags, verbatim',
  retry: 'start a failed attempt (failure verdict) again: {max, backoff_s, backoff_factor, max_backoff_s, on: [exit codes, "api_error", "stall", "timeout"], resume: true to continue the failed session}',
  interactive: 'a live session: the run stays after its first turn and takes more by send_message (end it with close_input)',
  idle_timeout_s: 'a live session idle (no turn running or queued) this long is closed',
  wait: 'block until the run has ended (bounded by timeout_s); else answer at once',
  turn: "a live session's turn number: answer for that turn (wait: until it ends)",
};

const spawnClaude = defineTool({
  name: 'spawn_claude',
  description:
    'Start a headless `claude -p` run on a task, in the background; returns at once with its record (process_id). Start several to fan work out. Then call `wait` with their process_ids (it blocks until they end, no polling), and `claude_result` for each one\'s final text and verdict. Stop one with kill_process. With interactive: true the run is a live session: more turns by send_message, claude_result {process_id, turn, wait: true} per turn, close_input to end it.',
  // A prompt is required here, also for a live session (interactive: true): its first turn.
  input: SpawnClaudeFields.required({ prompt: true }).refine(oneStartTime, ONE_START_TIME),
  output: RecordOut,
  annotations: { title: 'Start a claude run', readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  fieldDocs: CLAUDE_FIELD_DOCS,
  async run(params, ctx) {
    const r = await wire(ctx, 'spawn_claude', params);
    const next = params['interactive'] === true
      ? `claude_result {"process_id": "${r.process_id}", "turn": 1, "wait": true}; send_message for more turns; close_input to end it.`
      : `wait {"process_ids": ["${r.process_id}"]}, then claude_result {"process_id": "${r.process_id}"}.`;
    return { structured: { ...r }, text: `started ${recordLine(r)}\nNext: ${next}` };
  },
});

const claudeResult = defineTool({
  name: 'claude_result',
  description:
    "A claude run's final text, whole, and its verdict (is_error, subtype, error). While the run is still going, `running` is true and `result` null: call `wait` first, or pass wait: true (with timeout_s).",
  input: COMMAND_SCHEMAS.claude_result,
  output: ClaudeResultOut,
  annotations: { title: 'Get a claude result', readOnlyHint: true, openWorldHint: false },
  fieldDocs: CLAUDE_FIELD_DOCS,
  retryable: true,
  async run(params, ctx) {
    const id = String(params['process_id']);
    if (params['wait'] === true) {
      ctx.setProgressSource(async () => {
        const rec = await wire(ctx, 'process_info', { process_id: id });
        return { message: `waiting for ${recordLine(rec as ProcessRecord)}` };
      });
    }
    const r = await wire(ctx, 'claude_result', params);
    let text: string;
    if (r.running) text = `${id} is still running (state ${r.state})${r.timed_out === true ? '; the wait timed out' : ''}: call wait {"process_ids": ["${id}"]}, then claude_result again`;
    else if (r.is_error === true) text = `${id} failed (${r.subtype ?? 'error'}${r.error_type ? `, ${r.error_type}` : ''}): ${r.error ?? 'no reason given'}${r.result !== null ? `\nresult text:\n${r.result}` : ''}`;
    else text = r.result ?? `${id} ended without a result`;
    return { structured: { process_id: id, ...r }, text };
  },
});

/** The claude tools. */
export const CLAUDE_TOOLS: ToolDef[] = [spawnClaude, claudeResult];

