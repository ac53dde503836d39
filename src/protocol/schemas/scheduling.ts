/**
 * Scheduling parameters shared by `spawn_process` and `spawn_claude` (group, priority, dependencies,
 * delays) and the group commands. Kept apart from the process schemas so the scheduler's contract
 * reads in one place; both spawn schemas spread SCHEDULE_FIELDS into their own object.
 */
import { z } from 'zod';

/** A group name: the process-id rule (safe in paths, logs and shells without quoting). */
export const GroupName = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 . _ -')
  .refine((s) => s !== '.' && s !== '..', 'must not be "." or ".."');

/** The group a spawn without `group` joins. */
export const DEFAULT_GROUP = 'default';

/** `after_condition`: what a dependency must have done for its dependants to start. */
export const AFTER_CONDITIONS = ['success', 'ended'] as const;

/** One of AFTER_CONDITIONS. */
export type AfterCondition = (typeof AFTER_CONDITIONS)[number];

/** Longest delay or distance to `start_at` accepted (one year), so a typo cannot park a record forever. */
export const MAX_DELAY_S = 366 * 86400;

/** An ISO 8601 time with a date (`2030-01-02T03:04:05Z`); without an offset it is read as UTC. */
const StartAt = z.string().refine((s) => /^\d{4}-\d{2}-\d{2}/.test(s) && !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 time such as 2030-01-02T03:04:05Z');

/** `retry.on` words besides exit codes: what else counts as a failed attempt worth retrying. */
export const RETRY_ON_WORDS = ['api_error', 'stall', 'timeout'] as const;

/** Most retries one record may ask for. */
export const MAX_RETRIES = 100;

/**
 * `retry`: a failed attempt (exit code not 0; for a claude run a failure verdict) starts again after
 * `backoff_s * backoff_factor^(n-1)` seconds (at most `max_backoff_s`, plus up to 10% jitter), at
 * most `max` times. `on` narrows which failures count; `resume` (claude runs) continues the failed
 * attempt's session. See src/daemon/scheduler/retry.ts.
 */
export const RetryParams = z.strictObject({
  max: z.number().int().min(1).max(MAX_RETRIES),
  backoff_s: z.number().nonnegative().max(86400).optional(),
  backoff_factor: z.number().min(1).max(100).optional(),
  max_backoff_s: z.number().nonnegative().max(86400).optional(),
  on: z.array(z.union([z.number().int().min(0).max(255), z.enum(RETRY_ON_WORDS)])).min(1).max(300).optional(),
  resume: z.boolean().optional(),
});

/** The retry settings as a record keeps them (defaults filled in). */
export interface RetrySettings {
  max: number;
  backoff_s: number;
  backoff_factor: number;
  max_backoff_s: number;
  /** Null: every failure counts (exit code not 0, claude failure verdict); not timeouts or stalls. */
  on: (number | (typeof RETRY_ON_WORDS)[number])[] | null;
  resume: boolean;
}

/** One ended attempt of a record with `retry` (`attempts` in the record). */
export interface AttemptInfo {
  attempt: number;
  status: string;
  exit_code: number | null;
  signal: string | null;
  /** Claude runs: "success" or "error" (claude.is_error); null for other commands. */
  verdict: 'success' | 'error' | null;
  reason: string | null;
  started_at: string | null;
  ended_at: string | null;
  /** Claude runs: total_cost_usd of the attempt; else null. */
  cost: number | null;
  /** Claude runs: the attempt's session (what `retry.resume` continues); else null. */
  session_id: string | null;
}

/** The optional fields both spawn commands take (spread into their schemas). */
export const SCHEDULE_FIELDS = {
  /** Retries of failed attempts (see RetryParams). */
  retry: RetryParams.optional(),
  /** The group whose `parallel` limit and pause apply; default "default". */
  group: GroupName.optional(),
  /** Higher starts first within its group; ties in order of arrival. Default 0. */
  priority: z.number().int().min(-1_000_000).max(1_000_000).optional(),
  /** Process ids that must have ended (see after_condition) before this one starts. */
  after: z.array(z.string().min(1).max(64)).max(1000).optional(),
  after_condition: z.enum(AFTER_CONDITIONS).optional(),
  /** Seconds from now before which it does not start. */
  start_after_s: z.number().nonnegative().max(MAX_DELAY_S).optional(),
  /** An absolute time before which it does not start (ISO 8601). */
  start_at: StartAt.optional(),
};

/** The record fields the scheduler adds (all optional: records from older daemons lack them). */
export const SCHEDULE_RECORD_FIELDS = {
  group: z.string().optional(),
  priority: z.number().int().optional(),
  after: z.array(z.string()).optional(),
  after_condition: z.enum(AFTER_CONDITIONS).optional(),
  start_at: z.string().optional(),
  held: z.string().nullable().optional(),
  retry: z.object({
    max: z.number().int(), backoff_s: z.number(), backoff_factor: z.number(), max_backoff_s: z.number(),
    on: z.array(z.union([z.number().int(), z.enum(RETRY_ON_WORDS)])).nullable(), resume: z.boolean(),
  }).optional(),
  /** One entry per ended attempt (records with `retry`). */
  attempts: z.array(z.object({
    attempt: z.number().int(), status: z.string(), exit_code: z.number().int().nullable(), signal: z.string().nullable(),
    verdict: z.enum(['success', 'error']).nullable(), reason: z.string().nullable(), started_at: z.string().nullable(),
    ended_at: z.string().nullable(), cost: z.number().nullable(), session_id: z.string().nullable(),
  })).optional(),
  /** While queued for a retry: when the next attempt may start (ISO 8601). */
  retry_at: z.string().optional(),
};

/** The refinement both spawn schemas apply: one way to say when. */
export function oneStartTime(p: { start_after_s?: number | undefined; start_at?: string | undefined }): boolean {
  return p.start_after_s === undefined || p.start_at === undefined;
}

/** The message for oneStartTime. */
export const ONE_START_TIME = { message: 'give `start_after_s` or `start_at`, not both', path: ['start_at'] };

/** `group_set`: creates or changes a group; omitted fields keep their value. */
export const GroupSetParams = z.object({
  group: GroupName,
  /** At most this many of the group's records run at once; 0 = unlimited. */
  parallel: z.number().int().nonnegative().max(100_000).optional(),
  paused: z.boolean().optional(),
  /** Spending budget in dollars for the group's claude runs; null clears it. */
  budget_usd: z.number().nonnegative().max(1_000_000).nullable().optional(),
});

/** `group_list`: every group (configured, or with records queued or running). */
export const GroupListParams = z.object({});

/** One group as `group_list` and `group_set` report it. */
export interface GroupInfo {
  group: string;
  parallel: number;
  paused: boolean;
  running: number;
  /** Queued records of the group, whatever holds them. */
  queued: number;
  /** Of those, how many wait for dependencies or a start time. */
  waiting: number;
  /** Why the group's ready records do not start now (paused, full, the daemon's limit); null when none wait for that. */
  held: string | null;
  /** The group's spending budget in dollars for its claude runs; null for none. */
  budget_usd: number | null;
  /** What its records spent (reported `claude.total_cost_usd`, removed records' included). */
  spent_usd: number;
}

/** `group_list`'s reply. */
export interface GroupListResult {
  groups: GroupInfo[];
}

/** This domain's schemas, spread into the command table. */
export const GROUP_SCHEMAS = {
  group_set: GroupSetParams,
  group_list: GroupListParams,
} as const;

/** Results of this domain's commands. */
export interface GroupResults {
  group_set: GroupInfo;
  group_list: GroupListResult;
}
