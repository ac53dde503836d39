/**
 * Why a claude run failed, in words a person can act on. claude reports an API error with
 * `subtype: "success"` and `is_error: true`, so the subtype is never the reason: the reason is the
 * message claude printed (an assistant line tagged with `error`, e.g. "Not logged in · Please run
 * /login"), the result's `errors`, or, when the stream says nothing, what the daemon saw: its own
 * kill or timeout, the last line claude wrote on stderr (usage errors go there), the exit status.
 */
import fs from 'node:fs';
import type { ClaudeRunInfo } from '../../protocol/schemas/claude.js';
import type { ProcessRecord } from '../../protocol/schemas/processes.js';

/** An assistant line claude tagged with `error` (`authentication_failed`, `rate_limit`, ...). */
export interface ApiErrorLine {
  type: string;
  text: string;
}

/** A failure's `error` and `error_type`, as in the `claude` object. */
export interface Failure {
  error: string | null;
  error_type: string | null;
}

/** Words for the error subtypes whose result line carries no message. */
const SUBTYPE_WORDS: Record<string, string> = {
  error_max_turns: 'reached the turn limit (max_turns)',
  error_max_budget_usd: 'reached the budget (max_budget_usd)',
};

/**
 * The reason a failed `result` line (and the API-error line before it) gives. An interrupted run
 * (`error_during_execution`) usually has none worth showing (its `errors` are internal
 * diagnostics): then `error` is null and `endFailure` says who stopped it.
 */
export function streamFailure(result: Record<string, unknown>, apiError: ApiErrorLine | undefined): Failure {
  const subtype = typeof result['subtype'] === 'string' ? result['subtype'] : null;
  const errorSubtype = subtype !== null && subtype.startsWith('error') ? subtype : null;
  if (apiError !== undefined) return { error: apiError.text, error_type: apiError.type };
  const errors = Array.isArray(result['errors'])
    ? (result['errors'] as unknown[]).filter((e): e is string => typeof e === 'string' && e.trim() !== '' && !e.startsWith('[ede_diagnostic]'))
    : [];
  if (errors.length > 0) return { error: errors.join('; '), error_type: errorSubtype };
  const text = typeof result['result'] === 'string' ? result['result'].trim() : '';
  if (text !== '') return { error: text, error_type: errorSubtype };
  return { error: errorSubtype !== null ? (SUBTYPE_WORDS[errorSubtype] ?? null) : null, error_type: errorSubtype };
}

/**
 * Fills `info.error` of an ended run whose stream gave no reason, from its record and the tail
 * of its stderr file. Leaves a successful run (or one whose stream explains it) alone.
 */
export function explainEnd(info: ClaudeRunInfo, rec: ProcessRecord, stderrPath: string): void {
  if (info.is_error !== true) return;
  // An interruption the daemon caused (kill, timeout, stall) is explained by the daemon's reason,
  // not by what claude wrote about being interrupted.
  const stoppedByUs = info.error_type === 'error_during_execution' && rec.reason !== null;
  if (info.error !== null && !stoppedByUs) return;
  info.error = endReason(info, rec, lastLine(stderrPath));
}

function endReason(info: ClaudeRunInfo, rec: ProcessRecord, stderrLine: string | undefined): string {
  const interrupted = info.subtype === 'error_during_execution' ? 'interrupted' : 'ended without a result line';
  if (rec.status === 'failed') return `could not start: ${rec.reason ?? 'unknown error'}`;
  if (rec.status === 'lost') return `lost: ${rec.reason ?? 'the daemon lost track of it'}`;
  // The daemon stopped it (kill_process, timeout_s, the stall watchdog, shutdown): that is why.
  if (rec.reason !== null) return `${interrupted}, stopped by the daemon: ${rec.reason}`;
  const status = rec.signal !== null ? `killed by ${rec.signal}` : rec.exit_code !== null ? `exit code ${rec.exit_code}` : rec.status;
  if (stderrLine !== undefined) return `${stderrLine} (${status})`;
  return `${interrupted} (${status})`;
}

/** Bytes of stderr read back for its last line. */
const TAIL_BYTES = 4096;
/** Longest stderr line quoted. */
const LINE_LIMIT = 300;

/** The last non-empty line of a file (read from its last 4 KiB), or undefined. */
function lastLine(file: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(fd).size;
    const len = Math.min(size, TAIL_BYTES);
    const buf = Buffer.alloc(len);
    fs.readSync(fd, buf, 0, len, size - len);
    const lines = buf.toString('utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '');
    const last = lines.at(-1);
    if (last === undefined) return undefined;
    return last.length > LINE_LIMIT ? `${last.slice(0, LINE_LIMIT - 1)}…` : last;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
