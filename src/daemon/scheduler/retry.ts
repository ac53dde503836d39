/**
 * Retries (`retry {max, backoff_s, backoff_factor, max_backoff_s, on, resume}`): whether an ended
 * attempt is started again, when, and with which command line. Pure functions over records, plus
 * the one file move that keeps each attempt's output apart; the supervisor calls them from its end
 * of an attempt (lifecycle.ts `finish`) and the scheduler reads `retry_at` as a start time.
 *
 * A retried record never ends in between: it goes back to `queued` with `attempts` filled and
 * `retry_at` set, so waiters, dependants and the `ended` event see only the final attempt.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ProcessRecord } from '../../protocol/schemas/processes.js';
import type { AttemptInfo, RetrySettings } from '../../protocol/schemas/scheduling.js';

/** Defaults of the optional `retry` fields. */
export const RETRY_DEFAULTS = { backoff_s: 1, backoff_factor: 2, max_backoff_s: 300 } as const;

/** Jitter: each backoff is lengthened by up to this fraction (never shortened). */
const JITTER = 0.1;

/** `retry` as a spawn gives it, as the record keeps it (defaults filled in). */
export function retrySettings(p: { max: number; backoff_s?: number | undefined; backoff_factor?: number | undefined; max_backoff_s?: number | undefined; on?: RetrySettings['on'] | undefined; resume?: boolean | undefined }): RetrySettings {
  return {
    max: p.max,
    backoff_s: p.backoff_s ?? RETRY_DEFAULTS.backoff_s,
    backoff_factor: p.backoff_factor ?? RETRY_DEFAULTS.backoff_factor,
    max_backoff_s: p.max_backoff_s ?? RETRY_DEFAULTS.max_backoff_s,
    on: p.on === undefined ? null : [...new Set(p.on)],
    resume: p.resume ?? false,
  };
}

/**
 * What kind of failure an ended attempt was: its exit code (not 0) and, for claude runs, "api_error";
 * "timeout" / "stall" when the daemon stopped it for that. Empty for a success, a kill by someone,
 * a run stopped by a usage limit (held, not retried: the usage-limit holds own those), or an end
 * that is no attempt's fault (failed to start, lost, skipped).
 */
export function failureKinds(rec: ProcessRecord): (number | string)[] {
  const claude = rec.claude;
  if (claude !== undefined && claude['usage_limit'] !== null && claude['usage_limit'] !== undefined) return [];
  if (rec.reason !== null && (rec.status === 'exited' || rec.status === 'killed')) {
    // The daemon stopped it: only its own timeouts and stall stops count, never a kill_process.
    if (rec.reason.startsWith('timeout_s')) return ['timeout'];
    if (rec.reason.startsWith('stalled:')) return ['stall'];
    return [];
  }
  if (rec.status !== 'exited') return [];
  const kinds: (number | string)[] = [];
  if (rec.exit_code !== null && rec.exit_code !== 0) kinds.push(rec.exit_code);
  if (claude !== undefined && claude['is_error'] === true) {
    // "api_error": the API answered with an error status; any other failure verdict counts by default only.
    kinds.push(typeof claude['api_error_status'] === 'number' ? 'api_error' : 'verdict');
  }
  return kinds;
}

/** True when `rec`'s ended attempt is retried under its settings (`on`, or every plain failure). */
export function shouldRetry(rec: ProcessRecord): boolean {
  const r = rec.retry;
  if (r === undefined || (rec.attempts?.length ?? 0) >= r.max) return false;
  const kinds = failureKinds(rec);
  if (r.on === null) return kinds.some((k) => k !== 'timeout' && k !== 'stall');
  const on: readonly (number | string)[] = r.on;
  return kinds.some((k) => on.includes(k));
}

/** Milliseconds before retry number `n` (1 = the first retry), jitter included. */
export function backoffMs(r: RetrySettings, n: number, random: () => number = Math.random): number {
  const base = Math.min(r.max_backoff_s, r.backoff_s * r.backoff_factor ** (n - 1)) * 1000;
  return Math.round(base * (1 + JITTER * random()));
}

/** The `attempts` entry for `rec`'s attempt that just ended. */
export function attemptEntry(rec: ProcessRecord): AttemptInfo {
  const c = rec.claude;
  const isError = c?.['is_error'];
  return {
    attempt: (rec.attempts?.length ?? 0) + 1,
    status: rec.status,
    exit_code: rec.exit_code,
    signal: rec.signal,
    verdict: isError === true ? 'error' : isError === false ? 'success' : null,
    reason: rec.reason,
    started_at: rec.started_at,
    ended_at: rec.ended_at,
    cost: typeof c?.['total_cost_usd'] === 'number' ? c['total_cost_usd'] : null,
    session_id: typeof c?.['session_id'] === 'string' ? c['session_id'] : null,
  };
}

/**
 * Puts `rec` back in the queue for its next attempt at `atMs`: the ended attempt goes into
 * `attempts`, the outcome fields are cleared, and with `resume` a claude command line continues
 * the failed attempt's session.
 */
export function requeueForRetry(rec: ProcessRecord, atMs: number): void {
  const a = attemptEntry(rec);
  (rec.attempts ??= []).push(a);
  Object.assign(rec, { status: 'queued', pid: null, exit_code: null, signal: null, started_at: null, ended_at: null, duration_ms: null, reason: null });
  rec.retry_at = new Date(atMs).toISOString();
  if (rec.retry?.resume === true && a.session_id !== null) rec.cmd = resumeArgv(rec.cmd, a.session_id);
}

/** Records the final attempt (a record with `retry` that ends for good). */
export function recordFinalAttempt(rec: ProcessRecord): void {
  if (rec.retry === undefined) return;
  (rec.attempts ??= []).push(attemptEntry(rec));
  delete rec.retry_at;
}

/**
 * A `claude -p ... -- PROMPT` command line that resumes `session`: any `--resume X` /
 * `--session-id X` before the `--` is dropped and `--resume session` put in. A command line
 * without the `--` (not built by spawn_claude) is returned unchanged.
 */
export function resumeArgv(cmd: readonly string[], session: string): string[] {
  const sep = cmd.length - 2;
  if (sep < 1 || cmd[sep] !== '--') return [...cmd];
  const out: string[] = [];
  for (let i = 0; i < sep; i++) {
    if (cmd[i] === '--resume' || cmd[i] === '--session-id') {
      i++;
      continue;
    }
    out.push(cmd[i]!);
  }
  return [...out, '--resume', session, ...cmd.slice(sep)];
}

/** The start time a retry waits for (the `retry_at` time), as milliseconds, or 0. */
export function retryNotBefore(rec: ProcessRecord): number {
  return rec.retry_at === undefined ? 0 : Date.parse(rec.retry_at);
}

/** "retry 2 of 3 at 20:44:05 UTC" for a record waiting for its next attempt; undefined otherwise. */
export function retryHeld(rec: ProcessRecord): string | undefined {
  if (rec.retry_at === undefined || rec.retry === undefined) return undefined;
  return `retry ${rec.attempts?.length ?? 1} of ${rec.retry.max} at ${rec.retry_at.slice(11, 19)} UTC`;
}

/**
 * Moves attempt `n`'s files aside before the next attempt starts: stdout and stderr become
 * `stdout.N` / `stderr.N` (read_output `attempt: N` reads them), its exit file `exit.N`, and its
 * `started` line goes. Idempotent (a daemon killed halfway does it again): a file whose `.N` exists
 * has been moved already and is never moved over.
 */
export function moveAttemptFiles(dir: string, n: number): void {
  for (const f of ['stdout', 'stderr', 'exit']) {
    const from = path.join(dir, f);
    const to = `${from}.${n}`;
    if (fs.existsSync(to)) continue;
    try {
      fs.renameSync(from, to);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  fs.rmSync(path.join(dir, 'started'), { force: true });
}
