/**
 * An independent model of the protocol, for the fuzz tests: what reply a request line deserves,
 * written from docs/protocol.md and never from the daemon's own schemas (a model that reused them
 * would agree with any bug in them). Each command's parameters are listed with a hand-written check
 * per field; unknown keys are ignored; a missing required field, a field of the wrong type or range,
 * or a broken cross-field rule is INVALID_PARAMS.
 */

/** A value check for one parameter. */
type Check = (v: unknown) => boolean;

const MiB = 1024 * 1024;
const chars = (s: string): number => [...s].length; // Lengths count characters (code points).
const str: Check = (v) => typeof v === 'string';
const nonEmpty: Check = (v) => typeof v === 'string' && chars(v) >= 1;
const bool: Check = (v) => typeof v === 'boolean';
const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const positive: Check = (v) => num(v) && v > 0;
const nonNegative: Check = (v) => num(v) && v >= 0;
const natural: Check = (v) => Number.isSafeInteger(v) && (v as number) >= 0;
const oneOf =
  (...xs: string[]): Check =>
  (v) =>
    typeof v === 'string' && xs.includes(v);
/** A permission rule in claude's syntax: `Tool` or `Tool(pattern)`. */
const permRule: Check = (v) => typeof v === 'string' && v.length <= 10_000 && /^[A-Za-z0-9_.*-]+(\(.*\))?$/s.test(v);
const plainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** An object of string values (a `__proto__` key is dropped, never checked). */
const recordOf =
  (check: Check): Check =>
  (v) =>
    plainObject(v) && Object.entries(v).every(([k, x]) => k === '__proto__' || check(x));
const listOf =
  (check: Check, min = 0): Check =>
  (v) =>
    Array.isArray(v) && v.length >= min && v.every(check);
/** A process id names a directory: 1-64 of [A-Za-z0-9._-], not "." or "..". */
const processId: Check = (v) => typeof v === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(v) && v !== '.' && v !== '..';
/** Linux signal names, accepted as SIGTERM, TERM or term. */
const SIGNALS = new Set(
  'HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS'.split(' ').map((s) => `SIG${s}`),
);
const signal: Check = (v) => typeof v === 'string' && SIGNALS.has(v.toUpperCase().startsWith('SIG') ? v.toUpperCase() : `SIG${v.toUpperCase()}`);
const uuid: Check = (v) => typeof v === 'string' && /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(v);

/** Lineage and idempotency on both spawns (docs/protocol.md, "Lineage and idempotency"). */
const LINEAGE: Record<string, Check> = {
  idempotency_key: (v) => typeof v === 'string' && chars(v) >= 1 && chars(v) <= 200,
  parent: (v) => v === null || processId(v),
};
/** A group name: the process-id rule. */
const groupName = processId;
const intIn = (lo: number, hi: number): Check => (v) => Number.isSafeInteger(v) && (v as number) >= lo && (v as number) <= hi;
/** The scheduling parameters of both spawn commands (docs/protocol.md, Scheduling). */
const SCHEDULING: Record<string, Check> = {
  group: groupName,
  priority: intIn(-1_000_000, 1_000_000),
  after: (v) => Array.isArray(v) && v.length <= 1000 && v.every((x) => typeof x === 'string' && chars(x) >= 1 && chars(x) <= 64),
  after_condition: oneOf('success', 'ended'),
  start_after_s: (v) => num(v) && v >= 0 && v <= 366 * 86400,
  start_at: (v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}/.test(v) && !Number.isNaN(Date.parse(v)),
  retry: (v) => plainObject(v) && Object.hasOwn(v, 'max') && Object.entries(v).every(([k, x]) => Object.hasOwn(RETRY, k) && RETRY[k]!(x)),
};
/** `retry`'s fields (docs/protocol.md, Retries): `max` required, no other keys. */
const RETRY: Record<string, Check> = {
  max: intIn(1, 100),
  backoff_s: (v) => num(v) && v >= 0 && v <= 86400,
  backoff_factor: (v) => num(v) && v >= 1 && v <= 100,
  max_backoff_s: (v) => num(v) && v >= 0 && v <= 86400,
  on: (v) => Array.isArray(v) && v.length >= 1 && v.length <= 300 && v.every((x) => intIn(0, 255)(x) || oneOf('api_error', 'stall', 'timeout')(x)),
  resume: bool,
};
const oneStartTime = (p: Record<string, unknown>): boolean => !(Object.hasOwn(p, 'start_after_s') && Object.hasOwn(p, 'start_at'));
/** Event types a watch may name (docs/protocol.md, "Events"): emitted ones and reserved ones. */
const EVENT_TYPE_NAMES = [
  'spawned', 'started', 'output', 'killed', 'ended', 'removed', 'claude_state', 'module_loaded', 'module_failed',
  'turn_ended', 'permission_asked', 'permission_answered', 'held', 'released',
];

/** Every command, its parameters and their checks; `required` lists the ones that must be present. */
const COMMANDS: Record<string, { fields: Record<string, Check>; required?: string[]; rule?: (p: Record<string, unknown>) => boolean }> = {
  ping: { fields: { stats: bool, gc: bool } },
  shutdown: { fields: { kill_processes: bool } },
  spawn_process: {
    fields: { cmd: listOf(str, 1), process_id: processId, cwd: nonEmpty, env: recordOf(str), stdin: str, timeout_s: positive, name: (v) => typeof v === 'string' && chars(v) <= 200, ...SCHEDULING, ...LINEAGE },
    required: ['cmd'],
    rule: oneStartTime,
  },
  list_processes: {
    fields: {
      status: oneOf('queued', 'running', 'exited', 'killed', 'failed', 'lost', 'skipped'),
      parent: processId,
      limit: (v) => Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= 100_000,
      // Opaque to clients; what the daemon hands out (and so accepts) is a number of up to 15 digits.
      cursor: (v) => typeof v === 'string' && /^[0-9]{1,15}$/.test(v),
    },
  },
  clean: { fields: { status: listOf(oneOf('exited', 'killed', 'failed', 'lost', 'skipped'), 1), group: nonEmpty, older_than_s: nonNegative } },
  process_info: { fields: { process_id: processId }, required: ['process_id'] },
  read_output: {
    fields: {
      process_id: processId,
      stream: oneOf('stdout', 'stderr'),
      offset: natural,
      max_bytes: (v) => Number.isSafeInteger(v) && (v as number) >= 4 && (v as number) <= 16 * MiB,
      tail_lines: natural,
      encoding: oneOf('utf8', 'base64'),
      attempt: intIn(1, 101),
    },
    required: ['process_id'],
    rule: (p) => !(Object.hasOwn(p, 'offset') && Object.hasOwn(p, 'tail_lines')),
  },
  kill_process: {
    fields: { process_id: processId, process_ids: (v) => listOf(processId, 1)(v) && (v as unknown[]).length <= 10_000, signal, grace_s: (v) => num(v) && v >= 0 && v <= 3600, cascade: bool },
    // One process or a list of them: exactly one of the two; cascade only with one.
    rule: (p) => Object.hasOwn(p, 'process_id') !== Object.hasOwn(p, 'process_ids') && !(p['cascade'] === true && Object.hasOwn(p, 'process_ids')),
  },
  wait_process: { fields: { process_id: processId, timeout_s: nonNegative }, required: ['process_id'] },
  remove_process: { fields: { process_id: processId, cascade: bool }, required: ['process_id'] },
  spawn_claude: {
    fields: {
      prompt: nonEmpty,
      process_id: processId,
      cwd: nonEmpty,
      env: recordOf(str),
      name: str,
      model: nonEmpty,
      system_prompt: str,
      append_system_prompt: str,
      allowed_tools: listOf(nonEmpty),
      disallowed_tools: listOf(nonEmpty),
      permission_mode: oneOf('acceptEdits', 'auto', 'bypassPermissions', 'default', 'dontAsk', 'plan'),
      max_turns: (v) => Number.isSafeInteger(v) && (v as number) > 0,
      mcp_config: (v) => nonEmpty(v) || listOf(nonEmpty)(v) || plainObject(v),
      resume: nonEmpty,
      session_id: uuid,
      stall_timeout_s: positive,
      timeout_s: positive,
      extra_args: listOf(str),
      ignore_hold: bool,
      limit_resume_prompt: (v) => typeof v === 'string' && chars(v) >= 1 && chars(v) <= 10_000,
      interactive: bool,
      idle_timeout_s: positive,
      permissions: oneOf('ask'),
      permission_timeout_s: (v) => positive(v) && (v as number) <= 86_400,
      auto_allow: (v) => listOf(permRule)(v) && (v as unknown[]).length <= 1000,
      auto_deny: (v) => listOf(permRule)(v) && (v as unknown[]).length <= 1000,
      ...LINEAGE,
      ...SCHEDULING,
    },
    // prompt may be left out of a live session only (interactive: true, or permissions: "ask", which implies it);
    // idle_timeout_s applies to live sessions only; permissions needs interactive not false; permission_timeout_s needs permissions.
    rule: (p) => {
      const live = p['interactive'] === true || p['permissions'] === 'ask';
      return oneStartTime(p) && (Object.hasOwn(p, 'prompt') || live) && (!Object.hasOwn(p, 'idle_timeout_s') || live) && (!Object.hasOwn(p, 'permissions') || p['interactive'] !== false) && (!Object.hasOwn(p, 'permission_timeout_s') || p['permissions'] === 'ask') && ((!Object.hasOwn(p, 'auto_allow') && !Object.hasOwn(p, 'auto_deny')) || p['permissions'] === 'ask');
    },
  },
  group_set: { fields: { group: groupName, parallel: intIn(0, 100_000), paused: bool, budget_usd: (v) => v === null || (typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1_000_000) }, required: ['group'] },
  group_list: { fields: {} },
  claude_result: { fields: { process_id: nonEmpty, turn: (v) => Number.isSafeInteger(v) && (v as number) > 0, wait: bool, timeout_s: positive }, required: ['process_id'] },
  send_message: { fields: { process_id: nonEmpty, text: nonEmpty }, required: ['process_id', 'text'] },
  interrupt: { fields: { process_id: nonEmpty }, required: ['process_id'] },
  close_input: { fields: { process_id: nonEmpty }, required: ['process_id'] },
  answer_permission: {
    fields: { process_id: nonEmpty, request_id: nonEmpty, behavior: oneOf('allow', 'deny'), updated_input: recordOf(() => true), message: (v) => typeof v === 'string' && chars(v) >= 1 && chars(v) <= 10_000 },
    required: ['process_id', 'request_id', 'behavior'],
  },
  load_module: { fields: { module_name: str }, required: ['module_name'] },
  call_function: {
    fields: { module_name: str, function_name: nonEmpty, args: Array.isArray, kwargs: recordOf(() => true), timeout_s: (v) => positive(v) && (v as number) <= 86_400 },
    required: ['module_name', 'function_name'],
  },
  list_modules: { fields: {} },
  unload_module: { fields: { module_name: str }, required: ['module_name'] },
  watch: {
    fields: {
      since_seq: natural,
      process_ids: (v) => listOf(processId, 1)(v) && (v as unknown[]).length <= 10_000,
      types: listOf(oneOf(...EVENT_TYPE_NAMES), 1),
    },
  },
  unwatch: { fields: {} },
};

/** A minimal valid parameter set per command: the generator changes a field or two of it, so lines near every rule's edge are common. */
export const EXAMPLES: Readonly<Record<string, Record<string, unknown>>> = {
  ping: {},
  shutdown: {},
  spawn_process: { cmd: ['true'] },
  list_processes: {},
  clean: { status: ['exited'] },
  process_info: { process_id: 'a' },
  read_output: { process_id: 'a' },
  kill_process: { process_id: 'a' },
  wait_process: { process_id: 'a' },
  remove_process: { process_id: 'a' },
  spawn_claude: { prompt: 'hi' },
  claude_result: { process_id: 'a' },
  send_message: { process_id: 'a', text: 'hi' },
  interrupt: { process_id: 'a' },
  close_input: { process_id: 'a' },
  answer_permission: { process_id: 'a', request_id: 'r', behavior: 'allow' },
  load_module: { module_name: 'm' },
  call_function: { module_name: 'm', function_name: 'f' },
  list_modules: {},
  unload_module: { module_name: 'm' },
  group_set: { group: 'g' },
  group_list: {},
  watch: {},
  unwatch: {},
};

/** Values at the edges of each parameter's rules, by parameter name (the generator favours them). */
export const EDGES: Readonly<Record<string, readonly unknown[]>> = {
  process_id: ['a', '.', '..', 'x'.repeat(64), 'x'.repeat(65), 'a/b', '', 'ok-id_1.2', 5],
  process_ids: [['a'], ['a', 'b', 'a'], [], ['a', '..'], ['.'], 'a', [5], null],
  timeout_s: [0, -1, 0.001, 86_400, 86_401, '1'],
  grace_s: [0, 3600, 3600.5, -0.5],
  max_bytes: [3, 4, 16 * MiB, 16 * MiB + 1, 4.5],
  offset: [0, -1, 1.5, 2 ** 53 - 1, 2 ** 53],
  tail_lines: [0, -1, 1.5, 2 ** 53 - 1, 2 ** 53],
  signal: ['TERM', 'sigkill', 'SIGBOGUS', '', 'SIG', 9],
  cmd: [[], ['true'], [''], [1], 'true'],
  function_name: ['', 'f', 1],
  module_name: ['', 'm', 1, null],
  name: ['é'.repeat(200), '😀'.repeat(200), '😀'.repeat(201), 'x'.repeat(201)],
  stats: [true, false, null, 0, 'true'],
  gc: [true, false, null, 0, 'true'],
  wait: [true, false, null, 0, 'true'],
  kill_processes: [true, null, 'defused'],
  env: [{}, { a: 'b' }, { a: 1 }, [], null],
  stream: ['stdout', 'stderr', 'stdin'],
  encoding: ['utf8', 'base64', 'hex'],
  status: ['running', 'lost', 'bogus', ['exited'], ['running'], [], ['lost', 'killed']],
  limit: [1, 0, 100_000, 100_001, 1.5, '5'],
  cursor: ['0', '123', '', 'abc', '1'.repeat(15), '1'.repeat(16), 5],
  older_than_s: [0, -1, 0.5, '1'],
  session_id: ['00000000-0000-0000-0000-000000000000', 'zzzzzzzz-0000-0000-0000-000000000000', '0000'],
  max_turns: [1, 0, 1.5],
  prompt: ['', 'hi', 5],
  mcp_config: ['', 'x', [], [''], {}, 5],
  permission_mode: ['plan', 'bogus'],
  allowed_tools: [[], ['a'], [''], 'a'],
  args: [[], {}, 'x'],
  kwargs: [{}, [], { a: 1 }],
  cwd: ['', '/tmp'],
  stdin: ['', 5],
  idempotency_key: ['', 'k', 'é'.repeat(200), 'x'.repeat(201), 5, null],
  parent: [null, 'a', '.', 'x'.repeat(65), 5],
  cascade: [true, false, null, 'true'],
  ignore_hold: [true, false, null, 'true'],
  limit_resume_prompt: ['', 'go on', 'x'.repeat(10_001), 5],
  group: ['default', '', 'g', '.', 'g/1', 'x'.repeat(65), 3, 5],
  priority: [0, -1_000_000, 1_000_001, 1.5, '1'],
  after: [[], ['a'], [''], 'a', ['x'.repeat(65)]],
  after_condition: ['success', 'ended', 'failure'],
  start_after_s: [0, -1, 366 * 86400, 366 * 86400 + 1],
  start_at: ['2030-01-02T03:04:05Z', '2030-13-45', 'tomorrow', '1700000000', 5],
  parallel: [0, -1, 100_000, 100_001, 2.5],
  paused: [true, false, 'yes'],
  since_seq: [0, -1, 1.5, 2 ** 53 - 1, 2 ** 53, '1'],
  types: [[], ['ended'], ['output', 'held'], ['bogus'], 'ended'],
  budget_usd: [0, 0.5, 1_000_000, null, -0.01, 1_000_001, '1'],
  retry: [{ max: 1 }, { max: 0 }, { max: 101 }, {}, 2, { max: 2, backoff_s: 1, backoff_factor: 2, max_backoff_s: 5, on: [1, 'timeout'], resume: true }, { max: 2, on: [] }, { max: 2, on: ['never'] }, { max: 2, on: [256] }, { max: 2, backoff_factor: 0.5 }, { max: 2, bogus: 1 }, { max: 2, resume: 'yes' }],
  attempt: [1, 0, 101, 102, 1.5, '1'],
};

/** The command names the model knows (the fuzz test checks them against the daemon's own list). */
export const MODEL_COMMANDS: readonly string[] = Object.keys(COMMANDS).sort();

/** The parameter names of a command in the model (for generating requests that use them). */
export function fieldsOf(command: string): string[] {
  return Object.hasOwn(COMMANDS, command) ? Object.keys(COMMANDS[command]!.fields) : [];
}

/** An outcome: 'ok', an error code, or 'none' for a blank line (no reply). */
export type Outcome = 'ok' | 'none' | 'INVALID_JSON' | 'INVALID_REQUEST' | 'UNKNOWN_COMMAND' | 'INVALID_PARAMS';

/** What one line deserves: its outcome, the id the reply must echo (if any), and its command. */
export interface Prediction {
  outcome: Outcome;
  /** Present when the reply must carry this id. */
  id?: string | number;
  /** The known command the line names, when it is an object naming one. */
  command?: string;
}

/** The reply a line (its bytes, without the newline) deserves. */
export function predict(lineBytes: Uint8Array): Prediction {
  let text = new TextDecoder('utf-8').decode(lineBytes); // Invalid bytes become U+FFFD, as the daemon reads them.
  if (text.endsWith('\r')) text = text.slice(0, -1);
  if (text.trim() === '') return { outcome: 'none' };
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return { outcome: 'INVALID_JSON' };
  }
  if (!plainObject(msg)) return { outcome: 'INVALID_REQUEST' };
  let id: string | number | undefined;
  if (Object.hasOwn(msg, 'id')) {
    const v = msg['id'];
    // An id the reply could not echo is refused first, and the reply carries none.
    if (!(typeof v === 'string' || num(v))) return { outcome: 'INVALID_REQUEST' };
    id = v;
  }
  const withId = (p: Prediction): Prediction => (id === undefined ? p : { ...p, id });
  const command = msg['command'];
  if (typeof command !== 'string') return withId({ outcome: 'INVALID_REQUEST' });
  if (!Object.hasOwn(COMMANDS, command)) return withId({ outcome: 'UNKNOWN_COMMAND' });
  const spec = COMMANDS[command]!;
  const params: Record<string, unknown> = {};
  for (const k of Object.keys(msg)) if (k !== 'command' && k !== 'id' && k !== '__proto__') params[k] = msg[k];
  const ok =
    (spec.required ?? []).every((k) => Object.hasOwn(params, k)) &&
    Object.entries(spec.fields).every(([k, check]) => !Object.hasOwn(params, k) || check(params[k])) &&
    (spec.rule?.(params) ?? true);
  return withId({ outcome: ok ? 'ok' : 'INVALID_PARAMS', command });
}
