/**
 * Parameters and results of the claude commands, and the `claude` object every claude run's process
 * record carries. The object's shape is stable (every key always present, `null` until known), so
 * a client can read `record.claude.total_cost_usd` without checking which phase the run is in.
 */
import { z } from 'zod';
import { isJsonObjectText, PERMISSION_MODES } from '../claude-options.js';
import { LINEAGE_SPAWN_FIELDS, ProcessId, type SpawnResult } from './processes.js';
import { ONE_START_TIME, oneStartTime, SCHEDULE_FIELDS } from './scheduling.js';

/** Progress of a run as read from its stream: `stalled` is sticky once the stall watchdog fired. */
export type ClaudeRunState = 'starting' | 'working' | 'idle' | 'done' | 'stalled';

/** Where one turn of a live session is: waiting in the daemon's queue, running, or ended (how). */
export type ClaudeTurnState = 'queued' | 'running' | 'done' | 'error' | 'interrupted';

/** One turn of a live session (`spawn_claude {interactive: true}`), in the `claude` object's `turns`. */
export type ClaudeTurn = {
  /** 1 for the first user message (the spawn's `prompt`, or the first `send_message`). */
  number: number;
  state: ClaudeTurnState;
  /** The turn's final text, truncated like the run's `result` (4 KiB). */
  result: string | null;
  result_truncated: boolean;
  is_error: boolean | null;
  subtype: string | null;
  /** This turn's cost (claude reports session totals; this is the difference). */
  cost_usd: number | null;
  /** When the daemon wrote the turn to the session's input, and when its result line was read. */
  started_at: string | null;
  ended_at: string | null;
};

/**
 * What the daemon knows about a `claude -p --output-format stream-json` run, from its stdout. A type
 * alias (not an interface) so it fits the process record's `claude: Record<string, unknown>` slot.
 */
export type ClaudeRunInfo = {
  /** From the `system/init` line (or any later line carrying it). */
  session_id: string | null;
  model: string | null;
  state: ClaudeRunState;
  /** Assistant turns so far; the `result` line's own count once it arrives. */
  num_turns: number;
  /** The latest assistant text, truncated to 500 characters. */
  last_text: string | null;
  /** Stream lines read so far, and how many of them were not JSON objects (skipped). */
  events: number;
  malformed_lines: number;
  /** The final text (truncated to 4 KiB here; `claude_result` gives it whole). */
  result: string | null;
  result_truncated: boolean;
  /**
   * The verdict: from the `result` line, not the exit code (claude exits 1 on API errors and 0 or
   * 1 at random on SIGINT). A run that ended without a result line is an error.
   */
  is_error: boolean | null;
  /** `success`, `error_during_execution`, `error_max_turns`, ... as claude reports it. */
  subtype: string | null;
  /** HTTP status of the API error that ended the run, if any. */
  api_error_status: number | null;
  /**
   * Why the run failed, for people: the best reason the stream gives (claude's own message such as
   * "Not logged in · Please run /login", the result's `errors`), else what the daemon saw (its kill
   * or timeout, the last stderr line, the exit status). Null unless `is_error` is true.
   */
  error: string | null;
  /**
   * The failure's kind, for scripts: the `error` claude tags its API-error message with
   * (`authentication_failed`, `rate_limit`, `server_error`, ...), else an `error_*` subtype
   * (`error_max_turns`, `error_max_budget_usd`, ...); null when the stream names none.
   */
  error_type: string | null;
  /**
   * While claude retries a failed API call by itself (with backoff, up to ~3 minutes by default):
   * its latest `system/api_retry` line. Null once a reply or the result line arrives.
   */
  api_retry: ClaudeApiRetry | null;
  /**
   * The account's usage-limit state as claude last reported it (a `rate_limit_event` line; printed
   * under subscription auth only). Null until one arrives.
   */
  rate_limit: ClaudeRateLimit | null;
  /**
   * Set when the run ended because the account hit its usage limit (not a failure of the work: the
   * session can be resumed once the limit resets). Null otherwise.
   */
  usage_limit: ClaudeUsageLimit | null;
  total_cost_usd: number | null;
  duration_ms: number | null;
  usage: Record<string, unknown> | null;
  /** The run's stall watchdog (`spawn_claude`'s `stall_timeout_s`), kept so a restarted daemon re-arms it. */
  stall_timeout_s: number | null;
  /** Present (true) on live sessions only. */
  interactive?: boolean;
  /** A live session's idle limit (`idle_timeout_s`), kept so a restarted daemon re-arms it. */
  idle_timeout_s?: number | null;
  /** A live session's turns, oldest first (queued ones included); absent on one-shot runs. */
  turns?: ClaudeTurn[];
  /** A live session whose input is closing or closed (`close_input`, idle timeout): no more turns. */
  input_closed?: boolean;
  /** `"ask"` when the run's permission prompts come to the daemon (`spawn_claude {permissions: "ask"}`). */
  permissions?: 'ask';
  /** Seconds a permission prompt waits for `answer_permission` before it is denied. */
  permission_timeout_s?: number;
  /** Rules (claude's syntax, e.g. `Bash(git *)`) whose matching prompts are allowed at once. */
  auto_allow?: string[];
  /** Rules whose matching prompts are denied at once (checked before `auto_allow`). */
  auto_deny?: string[];
  /** The run's unanswered permission prompts, oldest first (with `permissions: "ask"` only). */
  pending_permissions?: PendingPermission[];
};

/** One unanswered `can_use_tool` prompt of a `permissions: "ask"` run (answer it with `answer_permission`). */
export type PendingPermission = {
  /** claude's id of the prompt; `answer_permission` names it. */
  request_id: string;
  tool_name: string;
  /** The tool call's input as claude asked (e.g. Bash: `{command, description}`). */
  input: Record<string, unknown>;
  /** ISO time the daemon read the prompt. */
  asked_at: string;
};

/** claude's `system/api_retry` line, as kept in the `claude` object. */
export type ClaudeApiRetry = {
  attempt: number | null;
  max_retries: number | null;
  /** HTTP status of the failed attempt (null for a connection error). */
  error_status: number | null;
  /** claude's tag for it: `server_error`, `rate_limit`, ... */
  error: string | null;
  retry_delay_ms: number | null;
};

/** claude's `rate_limit_event`, as kept in the `claude` object. */
export type ClaudeRateLimit = {
  /** `allowed`, `allowed_warning` or `rejected`. */
  status: string | null;
  /** When the window resets, epoch seconds. */
  resets_at: number | null;
  /** The window: `five_hour`, `seven_day`, ... */
  limit_type: string | null;
  /** Utilisation of the window, 0-1, when claude reports it. */
  utilization: number | null;
  is_using_overage: boolean | null;
};

/** A run stopped by the account's usage limit: when it resets (epoch seconds, null if not said) and claude's words. */
export type ClaudeUsageLimit = {
  resets_at: number | null;
  limit_type: string | null;
  message: string;
};

const nonEmpty = z.string().min(1);
const stringList = z.array(nonEmpty);
/** A permission rule in claude's syntax: `Tool` or `Tool(pattern)`. */
const permissionRule = z.string().max(10_000).regex(/^[A-Za-z0-9_.*-]+(\(.*\))?$/s, 'must be a rule in claude\'s syntax: Tool or Tool(pattern), e.g. "Bash(git *)"');

/** `spawn_claude`'s fields before the cross-field rules (the MCP tool derives its own schema from them). */
export const SpawnClaudeFields = z.object({
  /** The first turn; optional for a live session (`interactive`), which then waits for `send_message`. */
  prompt: z.string().min(1, 'must be a non-empty string').optional(),
  /** A live session: `--input-format stream-json`, turns by `send_message` (docs/sessions.md). */
  interactive: z.boolean().optional(),
  /** A live session idle (no turn running or queued) this long is closed (`close_input`). */
  idle_timeout_s: z.number().positive().optional(),
  /** `"ask"`: claude's permission prompts come to the daemon (`answer_permission`); implies `interactive`. */
  permissions: z.enum(['ask']).optional(),
  /** An unanswered permission prompt is denied after this many seconds (default 300). */
  permission_timeout_s: z.number().positive().max(86_400).optional(),
  /** With `permissions: "ask"`: prompts matching one of these rules (claude's syntax, `Bash(git *)`) are allowed at once. */
  auto_allow: z.array(permissionRule).max(1000).optional(),
  /** With `permissions: "ask"`: prompts matching one of these are denied at once (before `auto_allow` is looked at). */
  auto_deny: z.array(permissionRule).max(1000).optional(),
  /** The same rule as spawn_process (the id names a directory: "." and ".." are refused). */
  process_id: ProcessId.optional(),
  cwd: nonEmpty.optional(),
  env: z.record(z.string(), z.string()).optional(),
  name: z.string().optional(),
  model: nonEmpty.optional(),
  system_prompt: z.string().optional(),
  append_system_prompt: z.string().optional(),
  allowed_tools: stringList.optional(),
  disallowed_tools: stringList.optional(),
  permission_mode: z.enum(PERMISSION_MODES).optional(),
  max_turns: z.number().int().positive().optional(),
  /** Paths of MCP config files or JSON strings; an object is passed as its JSON text. */
  mcp_config: z.union([nonEmpty, stringList, z.record(z.string(), z.unknown())]).optional(),
  resume: nonEmpty.optional(),
  /** `--max-budget-usd`: claude stops the run (`error_max_budget_usd`) once it has spent this much. */
  max_budget_usd: z.number().positive().optional(),
  /** `--json-schema`: a JSON Schema object, or its JSON text; claude then returns structured output. */
  json_schema: z
    .union([z.record(z.string(), z.unknown()), z.string().refine(isJsonObjectText, 'must be a JSON Schema: an object, or the JSON text of one')])
    .optional(),
  session_id: z.guid('must be a UUID').optional(),
  stall_timeout_s: z.number().positive().optional(),
  timeout_s: z.number().positive().optional(),
  extra_args: z.array(z.string()).optional(),
  /** Usage limits: start even while claude runs are held (urgent work); see docs/protocol.md "Usage limits". */
  ignore_hold: z.boolean().optional(),
  /** The prompt sent when this run is resumed after a usage limit (default: a short "continue"). */
  limit_resume_prompt: z.string().min(1, 'must be a non-empty string').max(10_000).optional(),
  ...SCHEDULE_FIELDS,
  ...LINEAGE_SPAWN_FIELDS,
});

/** `spawn_claude`: one option per claude flag; the daemon builds the argv (see argv.ts). */
export const SpawnClaudeParams = SpawnClaudeFields.refine(oneStartTime, ONE_START_TIME)
  .refine((p) => p.prompt !== undefined || isLive(p), { message: 'prompt is required (it may be left out only with interactive: true)', path: ['prompt'] })
  .refine((p) => p.idle_timeout_s === undefined || isLive(p), { message: 'idle_timeout_s applies to live sessions only: add interactive: true', path: ['idle_timeout_s'] })
  .refine((p) => p.permissions === undefined || p.interactive !== false, { message: 'permissions: "ask" needs a live session (claude asks on its stream-json input): leave interactive out or set it true', path: ['permissions'] })
  .refine((p) => p.permission_timeout_s === undefined || p.permissions === 'ask', { message: 'permission_timeout_s applies only with permissions: "ask"', path: ['permission_timeout_s'] })
  .refine((p) => (p.auto_allow === undefined && p.auto_deny === undefined) || p.permissions === 'ask', { message: 'auto_allow and auto_deny apply only with permissions: "ask"', path: ['auto_allow'] });

/** A live session: `interactive: true`, or `permissions: "ask"` (which implies it). */
export function isLive(p: { interactive?: boolean | undefined; permissions?: 'ask' | undefined }): boolean {
  return p.interactive === true || p.permissions === 'ask';
}

/** `answer_permission`: allows or denies one pending permission prompt of a `permissions: "ask"` run. */
export const AnswerPermissionParams = z.object({
  process_id: nonEmpty,
  request_id: nonEmpty,
  behavior: z.enum(['allow', 'deny']),
  /** With allow: the tool's input to use instead of the one claude asked with. */
  updated_input: z.record(z.string(), z.unknown()).optional(),
  /** With deny: why (claude sees it as the tool's error). */
  message: z.string().min(1, 'must be a non-empty string').max(10_000).optional(),
});

/** `answer_permission`'s reply. */
export interface AnswerPermissionReply {
  process_id: string;
  request_id: string;
  tool_name: string;
  behavior: 'allow' | 'deny';
}

/** `send_message`: one more user turn for a live session (queued behind the running one). */
export const SendMessageParams = z.object({
  process_id: nonEmpty,
  text: z.string().min(1, 'must be a non-empty string'),
});

/** `interrupt`: stops the live session's running turn (the session stays). */
export const InterruptParams = z.object({ process_id: nonEmpty });

/** `close_input`: the session ends (its process exits) once the queued turns have run. */
export const CloseInputParams = z.object({ process_id: nonEmpty });

/** `send_message`'s reply. */
export interface SendMessageReply {
  process_id: string;
  /** The turn this message is (1-based). */
  turn: number;
  /** True when it waits behind a running or queued turn; false when it was written at once. */
  queued: boolean;
}

/** `interrupt`'s reply. */
export interface InterruptReply {
  process_id: string;
  /** The turn that was asked to stop, or null when none was running (nothing was sent). */
  turn: number | null;
  interrupted: boolean;
}

/** `close_input`'s reply. */
export interface CloseInputReply {
  process_id: string;
  /** Turns still to run (queued or running) before the input closes. */
  pending_turns: number;
  /** True when this call closed it; false when it was already closing or closed. */
  closed_now: boolean;
}

/** `claude_result`: optionally waits for the run to end (bounded by `timeout_s`). */
export const ClaudeResultParams = z.object({
  process_id: nonEmpty,
  /** A live session's turn (1-based): the answer is about that turn; `wait` waits for its end. */
  turn: z.number().int().positive().optional(),
  wait: z.boolean().optional(),
  timeout_s: z.number().positive().optional(),
});

/** The outcome of a run: the final text whole, and the verdict. */
export interface ClaudeResultReply {
  /** The final text; null while running or when the run ended without a result line. */
  result: string | null;
  /** null while the run is still going (and `wait` was not given or timed out). */
  is_error: boolean | null;
  subtype: string | null;
  /** HTTP status of the API error that ended the run (claude says `subtype: success` even then). */
  api_error_status: number | null;
  /** Why the run failed (the `claude` object's `error`); null unless `is_error`. */
  error: string | null;
  /** The failure's kind (the `claude` object's `error_type`). */
  error_type: string | null;
  session_id: string | null;
  state: ClaudeRunState;
  /** True when the run had not ended when the reply was made. */
  running: boolean;
  /** Present and true when `wait` gave up after `timeout_s`. */
  timed_out?: boolean;
  /** With `turn`: that turn (its `state`, cost, times); `result`/`is_error`/`subtype` are then its own. */
  turn?: ClaudeTurn;
}

/** This domain's schemas, spread into the command table. */
export const CLAUDE_SCHEMAS = {
  spawn_claude: SpawnClaudeParams,
  claude_result: ClaudeResultParams,
  send_message: SendMessageParams,
  interrupt: InterruptParams,
  close_input: CloseInputParams,
  answer_permission: AnswerPermissionParams,
} as const;

/** Results of this domain's commands, by command name. */
export interface ClaudeResults {
  /** The process record, with its `claude` object. */
  spawn_claude: SpawnResult;
  claude_result: ClaudeResultReply;
  send_message: SendMessageReply;
  interrupt: InterruptReply;
  close_input: CloseInputReply;
  answer_permission: AnswerPermissionReply;
}
