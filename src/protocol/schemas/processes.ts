/**
 * Parameters and results of the process commands. The record shape is the contract every client,
 * the CLI and the claude-run observer share, so it is defined here, once, with no I/O.
 */
import { z } from 'zod';
import { MAX_RETRIES, ONE_START_TIME, oneStartTime, SCHEDULE_FIELDS, SCHEDULE_RECORD_FIELDS, type AfterCondition, type AttemptInfo, type RetrySettings } from './scheduling.js';

/**
 * Statuses in lifecycle order; `lost` means the daemon cannot know how the process ended; `skipped`
 * means it never ran because a dependency (`after`) did not end as required.
 */
export const PROCESS_STATUSES = ['queued', 'running', 'exited', 'killed', 'failed', 'lost', 'skipped'] as const;

/** One of PROCESS_STATUSES. */
export type ProcessStatus = (typeof PROCESS_STATUSES)[number];

/** Statuses from which a process never moves again. */
export const ENDED_STATUSES: ReadonlySet<ProcessStatus> = new Set(['exited', 'killed', 'failed', 'lost', 'skipped']);

/**
 * Signals a client may name (Linux numbering is the daemon's business). Accepted as `SIGTERM`,
 * `TERM` or `term`; always reported as `SIGTERM`.
 */
export const SIGNAL_NAMES = [
  'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGKILL', 'SIGUSR1', 'SIGSEGV',
  'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGTERM', 'SIGSTKFLT', 'SIGCHLD', 'SIGCONT', 'SIGSTOP', 'SIGTSTP', 'SIGTTIN',
  'SIGTTOU', 'SIGURG', 'SIGXCPU', 'SIGXFSZ', 'SIGVTALRM', 'SIGPROF', 'SIGWINCH', 'SIGIO', 'SIGPWR', 'SIGSYS',
] as const;

/** A signal name as the daemon reports it. */
export type SignalName = (typeof SIGNAL_NAMES)[number];

const SIGNAL_SET: ReadonlySet<string> = new Set(SIGNAL_NAMES);

/** 1-64 characters of `[A-Za-z0-9._-]`: safe as a directory name and in a shell without quoting. */
export const ProcessId = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 . _ -')
  .refine((s) => s !== '.' && s !== '..', 'must not be "." or ".."');

/** A signal name, normalised to the `SIGTERM` form. */
export const SignalParam = z
  .string()
  .transform((s) => (s.toUpperCase().startsWith('SIG') ? s.toUpperCase() : `SIG${s.toUpperCase()}`))
  .refine((s) => SIGNAL_SET.has(s), 'must be a signal name such as SIGTERM, SIGINT or SIGKILL')
  .transform((s) => s as SignalName);

/**
 * Lineage and idempotency (issue 13): optional on `spawn_process` and `spawn_claude` alike, kept in
 * one block so other additions to the spawn schemas merge beside it. `parent` null means "no
 * parent" (a client then sends none of its own, even from inside a tracked process).
 */
export const LINEAGE_SPAWN_FIELDS = {
  /** A second spawn with a key that a record not yet removed holds returns that record (`deduplicated: true`). */
  idempotency_key: z.string().min(1, 'must be a non-empty string').max(200).optional(),
  /** The process this one was spawned on behalf of (clients send their CLAUDE_DAEMON_PROCESS_ID). */
  parent: ProcessId.nullable().optional(),
};

/** Default seconds the processes a command leaves behind may outlive it (`descendants_grace_s`). */
export const DEFAULT_DESCENDANTS_GRACE_S = 5;

/** `spawn_process`: `cmd` is argv (no shell); `env` is laid over the daemon's environment. */
export const SpawnProcessParams = z.object({
  cmd: z.array(z.string()).min(1, 'must list at least the program to run'),
  process_id: ProcessId.optional(),
  cwd: z.string().min(1).optional(),
  env: z.record(z.string(), z.string()).optional(),
  stdin: z.string().optional(),
  timeout_s: z.number().positive().optional(),
  name: z.string().max(200).optional(),
  /** Seconds the descendants the command leaves behind may live on after it ends; default 5. */
  descendants_grace_s: z.number().nonnegative().max(86400).optional(),
  /** Keep such descendants (no timed end; kill_process and remove_process still end them). */
  keep_descendants: z.boolean().optional(),
  ...SCHEDULE_FIELDS,
  ...LINEAGE_SPAWN_FIELDS,
}).refine((p) => !(p.keep_descendants === true && p.descendants_grace_s !== undefined), {
  message: 'give `keep_descendants` or `descendants_grace_s`, not both',
  path: ['descendants_grace_s'],
}).refine(oneStartTime, ONE_START_TIME);

/** Most records one `list_processes` page may ask for. */
export const MAX_LIST_LIMIT = 100_000;

/**
 * `list_processes`: every record, or those of one status; with `limit`, one page of them, and the
 * next page from the reply's `next_cursor` (an opaque string: today a creation sequence number).
 */
export const ListProcessesParams = z.object({
  status: z.enum(PROCESS_STATUSES).optional(),
  /** Only the direct children of this process (lineage). */
  parent: ProcessId.optional(),
  limit: z.number().int().min(1).max(MAX_LIST_LIMIT).optional(),
  cursor: z.string().regex(/^[0-9]{1,15}$/, 'must be the `next_cursor` of an earlier list_processes reply').optional(),
});

/** Statuses `clean` may name: only ended records are ever cleaned. */
const EndedStatus = z.enum(PROCESS_STATUSES).refine((s) => ENDED_STATUSES.has(s), 'must be an ended status (exited, killed, failed, lost, skipped): queued and running records are never cleaned');

/** `clean`: removes ended records, all or those matching every filter given. */
export const CleanParams = z.object({
  status: z.array(EndedStatus).min(1, 'must name at least one status (or leave `status` out)').optional(),
  group: z.string().min(1).optional(),
  older_than_s: z.number().nonnegative().optional(),
});

/** Commands that name one process and nothing else. */
export const ProcessIdParams = z.object({ process_id: ProcessId });

/** `read_output`: `offset` and `tail_lines` are alternatives (tail wins only when offset is absent). */
export const ReadOutputParams = z
  .object({
    process_id: ProcessId,
    stream: z.enum(['stdout', 'stderr']).default('stdout'),
    offset: z.number().int().nonnegative().optional(),
    max_bytes: z
      .number()
      .int()
      .min(4, 'must be at least 4 (one UTF-8 character)')
      .max(16 * 1024 * 1024)
      .default(64 * 1024),
    tail_lines: z.number().int().nonnegative().optional(),
    encoding: z.enum(['utf8', 'base64']).default('utf8'),
    /** Records with `retry`: which attempt's output (1 = the first); default the latest. */
    attempt: z.number().int().min(1).max(MAX_RETRIES + 1).optional(),
  })
  .refine((p) => p.offset === undefined || p.tail_lines === undefined, { message: 'give `offset` or `tail_lines`, not both', path: ['tail_lines'] });

/**
 * `kill_process` for one process (the MCP tool's form: one record back): `signal` first, SIGKILL to
 * survivors after `grace_s`; `cascade` also ends every descendant (by `parent`), deepest first. A
 * function so the schema is built where it is used (the command table builds the full one).
 */
export function KillOneParams() {
  return z.object({
    process_id: ProcessId,
    signal: SignalParam.optional(),
    grace_s: z.number().nonnegative().max(3600).optional(),
    cascade: z.boolean().optional(),
  });
}

/** Most processes one `kill_process` may name in `process_ids` (a 1 MiB line holds about 15,000). */
export const MAX_KILL_IDS = 10_000;

/**
 * `kill_process`: `signal` first, SIGKILL to survivors after `grace_s`. One process (`process_id`),
 * or many at once (`process_ids`, replying `{processes: [...]}`): every first signal is sent before
 * any end is handled, so stopping 100 costs one request and one reply, not 100 of each.
 */
export const KillProcessParams = z
  .object({
    ...KillOneParams().shape,
    process_id: ProcessId.optional(),
    process_ids: z.array(ProcessId).min(1, 'must name at least one process').max(MAX_KILL_IDS, `must name at most ${MAX_KILL_IDS} processes`).optional(),
  })
  .refine((p) => (p.process_id === undefined) !== (p.process_ids === undefined), {
    message: 'give `process_id` (one process) or `process_ids` (a list), exactly one of them',
    path: ['process_id'],
  })
  .refine((p) => !(p.cascade === true && p.process_ids !== undefined), {
    message: '`cascade` goes with one `process_id`, not `process_ids`',
    path: ['cascade'],
  });

/** `remove_process`: `cascade` removes the whole subtree (by `parent`), ending what still runs in it. */
export const RemoveProcessParams = z.object({ process_id: ProcessId, cascade: z.boolean().optional() });

/** `wait_process`: without `timeout_s` it waits as long as the connection lives. */
export const WaitProcessParams = z.object({
  process_id: ProcessId,
  timeout_s: z.number().nonnegative().optional(),
});

/** A process as every command reports it. Times are ISO 8601 strings; sizes are bytes. */
export interface ProcessRecord {
  process_id: string;
  /** The command's own pid (not the wrapper's); null before it started. */
  pid: number | null;
  status: ProcessStatus;
  cmd: string[];
  cwd: string;
  name: string | null;
  /** Set when the command exited normally (status `exited`). */
  exit_code: number | null;
  /** Set when a signal ended the command (status `killed`), e.g. `SIGTERM`. */
  signal: SignalName | string | null;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  duration_ms: number | null;
  stdout_bytes: number;
  stderr_bytes: number;
  timeout_s: number | null;
  /** Why the process is `failed`, `lost`, or ended by the daemon (kill, timeout); else null. */
  reason: string | null;
  /**
   * Seconds the processes the command leaves behind may outlive it before they are ended (SIGTERM,
   * SIGKILL 2 s later); null when they are kept (`keep_descendants`).
   */
  descendants_grace_s: number | null;
  /**
   * How many processes the command left behind are still alive (its orphaned descendants, kept by
   * the wrapper); 0 when none, null while the command itself is queued or running.
   */
  descendants: number | null;
  /** Present on `claude -p` stream-json runs; maintained by the claude observer. */
  claude?: Record<string, unknown>;
  /** The process it was spawned on behalf of (`parent` at spawn); null for none. Absent in old records. */
  parent?: string | null;
  /** The spawn's `idempotency_key`; null for none. Absent in old records. */
  idempotency_key?: string | null;
  /** The scheduler's fields (absent on records from before it): the group ("default" when absent; `clean {group}` filters on it). */
  group?: string;
  /** Higher starts first within the group (0 when absent). */
  priority?: number;
  /** Process ids this one waits for, and what they must have done (`success`: exit code 0). */
  after?: string[];
  after_condition?: AfterCondition;
  /** Not started before this time (ISO 8601), from `start_at` or `start_after_s`. */
  start_at?: string;
  /** While queued: why it has not started (waiting for X, not before T, group full...). */
  held?: string | null;
  /** Usage limits (claude runs): `spawn_claude {ignore_hold}`, starts despite the usage hold. */
  ignore_hold?: boolean;
  /** Times this run was re-queued to continue its session after hitting the usage limit (absent: never; not a retry). */
  limit_resumes?: number;
  /** The `claude` objects of the attempts the usage limit interrupted, oldest first. */
  limit_attempts?: Record<string, unknown>[];
  /** `spawn_claude {limit_resume_prompt}`: the prompt its resumption sends (default: DEFAULT_LIMIT_RESUME_PROMPT). */
  limit_resume_prompt?: string;
  /** `retry` as given at spawn, defaults filled in. */
  retry?: RetrySettings;
  /** Records with `retry`: one entry per ended attempt, oldest first (the last is the final one once ended). */
  attempts?: AttemptInfo[];
  /** While queued for a retry: when the next attempt may start (ISO 8601). */
  retry_at?: string;
}

/**
 * Which file holds attempt `attempt`'s output of `rec` (records with `retry`): `""` for the current
 * file (`stdout`), `".N"` for an earlier attempt's (`stdout.N`, moved aside before the next attempt
 * started), undefined for an attempt that has not happened. Shared by the daemon and the MCP server.
 */
export function attemptFileSuffix(rec: Pick<ProcessRecord, 'status' | 'attempts'>, attempt: number): string | undefined {
  const n = rec.attempts?.length ?? 0;
  const current = ENDED_STATUSES.has(rec.status) ? Math.max(1, n) : n + 1;
  if (attempt === current) return '';
  return attempt < current ? `.${attempt}` : undefined;
}

/** An ISO 8601 time as the daemon writes it (`Date.prototype.toISOString`). */
const IsoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 time');

/**
 * The record's shape as a schema, so a record that did not come from this daemon's own memory (one
 * read back from disk at start) is checked field by field before it is served or acted on. Its
 * parameter-like fields reuse the spawn schema's own rules. Fields it does not know are kept (a newer
 * daemon's record read by an older one loses nothing).
 */
export const ProcessRecordSchema: z.ZodType<ProcessRecord> = z.looseObject({
  process_id: ProcessId,
  pid: z.number().int().positive().nullable(),
  status: z.enum(PROCESS_STATUSES),
  cmd: SpawnProcessParams.shape.cmd,
  cwd: z.string().min(1),
  name: z.string().nullable(),
  exit_code: z.number().int().nullable(),
  signal: z.string().nullable(),
  created_at: IsoTime,
  started_at: IsoTime.nullable(),
  ended_at: IsoTime.nullable(),
  duration_ms: z.number().nullable(),
  stdout_bytes: z.number().int().nonnegative(),
  stderr_bytes: z.number().int().nonnegative(),
  timeout_s: SpawnProcessParams.shape.timeout_s.unwrap().nullable(),
  reason: z.string().nullable(),
  // Absent from records written before they existed: the default grace, and not counted (null).
  descendants_grace_s: SpawnProcessParams.shape.descendants_grace_s.unwrap().nullable().default(DEFAULT_DESCENDANTS_GRACE_S),
  descendants: z.number().int().nonnegative().nullable().default(null),
  claude: z.record(z.string(), z.unknown()).optional(),
  parent: ProcessId.nullable().default(null),
  idempotency_key: LINEAGE_SPAWN_FIELDS.idempotency_key.unwrap().nullable().default(null),
  ...SCHEDULE_RECORD_FIELDS,
});

/** `spawn_process` / `spawn_claude`'s reply: the record, flagged when an idempotency key matched an existing one. */
export type SpawnResult = ProcessRecord & { deduplicated?: true };

/** `kill_process`'s reply: with `cascade`, the descendants it ended, in the order they were ended. */
export type KillResult = ProcessRecord & { cascade?: string[] };

/** `wait_process`'s reply: the record, flagged when the wait ran out before the process ended. */
export type WaitResult = ProcessRecord & { timed_out?: true };

/** `list_processes`'s reply; totals count records by status (plus domain extras such as cost). */
export interface ListProcessesResult {
  processes: ProcessRecord[];
  totals: Record<string, number>;
  /** Only when the request gave `limit` or `cursor`: the next page's cursor, null on the last page. */
  next_cursor?: string | null;
}

/** `clean`'s reply: how many records were removed, and their ids (oldest end first). */
export interface CleanResult {
  removed: number;
  process_ids: string[];
}

/** `read_output`'s reply. */
export interface ReadOutputResult {
  data: string;
  encoding: 'utf8' | 'base64';
  offset: number;
  next_offset: number;
  eof: boolean;
}

/** `remove_process`'s reply. */
export interface RemoveProcessResult {
  removed: true;
  process_id: string;
  /** With `cascade`: the descendants removed with it, deepest first. */
  cascade?: string[];
}

/** `kill_process` with `process_ids`: the records, in the order the ids were given (each once). */
export interface KillProcessesResult {
  processes: ProcessRecord[];
}

/** This domain's schemas, spread into the command table. */
export const PROCESS_SCHEMAS = {
  spawn_process: SpawnProcessParams,
  list_processes: ListProcessesParams,
  process_info: ProcessIdParams,
  read_output: ReadOutputParams,
  kill_process: KillProcessParams,
  wait_process: WaitProcessParams,
  remove_process: RemoveProcessParams,
  clean: CleanParams,
} as const;

/** Results of this domain's commands, by command name. */
export interface ProcessResults {
  spawn_process: SpawnResult;
  list_processes: ListProcessesResult;
  process_info: ProcessRecord;
  read_output: ReadOutputResult;
  kill_process: KillResult | KillProcessesResult;
  wait_process: WaitResult;
  remove_process: RemoveProcessResult;
  clean: CleanResult;
}
