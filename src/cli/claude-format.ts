/**
 * How claude runs look to a person in the process verbs (`list`, `info`): state, verdict and cost
 * instead of a long command line. Kept in the claude domain so the process verbs only call it.
 */
import type { ClaudeRunInfo, ClaudeUsageLimit } from '../protocol/schemas/claude.js';
import type { ProcessRecord } from '../protocol/schemas/processes.js';
import { cliReason } from './wire-names.js';

/** `list`'s COMMAND cell for a claude run: `claude done $0.0012 'the prompt…'`. */
export function claudeCell(r: ProcessRecord, max = 80): string {
  const c = r.claude as ClaudeRunInfo;
  const prompt = r.cmd[r.cmd.length - 1] ?? '';
  const head = `claude ${stateText(c)} ${costText(c.total_cost_usd)} `;
  const room = Math.max(8, max - head.length - 2);
  const p = prompt.length > room ? `${prompt.slice(0, room - 1)}…` : prompt;
  return `${head}'${p.replace(/\s+/g, ' ')}'`;
}

/** `starting`, `working`, `working (API retry 2/10: server_error)`, `done`, `done (error)`, `stalled (error)`. */
export function stateText(c: ClaudeRunInfo): string {
  if (c.is_error === true) return `${c.state} (error)`;
  const r = c.api_retry;
  if (r) return `${c.state} (API retry ${r.attempt ?? '?'}/${r.max_retries ?? '?'}: ${r.error ?? r.error_status ?? 'error'})`;
  return c.state;
}

/** `five_hour limit, resets 20:44 UTC` (or `no reset time given`). */
export function usageLimitText(u: ClaudeUsageLimit): string {
  const when = u.resets_at === null ? 'no reset time given' : `resets ${new Date(u.resets_at * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return `${u.limit_type ?? 'usage'} limit, ${when}`;
}

/** `$0.0012`, or `$-` before the run reported a cost. */
export function costText(cost: number | null | undefined): string {
  return typeof cost === 'number' ? `$${Number(cost.toPrecision(4))}` : '$-';
}

/** A `list_processes` total for people: the summed cost reads as money, the rest as counts. */
export function totalText(key: string, n: number): string {
  return key === 'total_cost_usd' ? `${costText(n)} claude cost` : `${n} ${key}`;
}

/** `info` lines for a claude run. */
export function claudeLines(r: ProcessRecord): Array<[string, string]> {
  const c = r.claude as ClaudeRunInfo;
  const lines: Array<[string, string]> = [['claude', `${stateText(c)}, ${c.num_turns} turns, ${costText(c.total_cost_usd)}${c.model ? `, model ${c.model}` : ''}`]];
  if (c.session_id) lines.push(['session', c.session_id]);
  const error = c.is_error === true ? failureText(c) : undefined;
  if (error !== undefined) lines.push(['error', error]);
  if (c.usage_limit) lines.push(['usage limit', usageLimitText(c.usage_limit)]);
  // Resumed after a usage limit: the latest interrupted attempt's limit (the record's `claude` is the current attempt's).
  const last = r.limit_attempts?.at(-1) as ClaudeRunInfo | undefined;
  if (r.limit_resumes !== undefined && last?.usage_limit) lines.push(['usage limit', `${usageLimitText(last.usage_limit)} (resumption ${r.limit_resumes}${r.status === 'queued' ? ' queued' : ''})`]);
  if (c.subtype) lines.push(['subtype', c.subtype]);
  // Permission prompts waiting for `answer ID REQUEST_ID allow|deny`.
  for (const p of c.pending_permissions ?? []) {
    const cmd = typeof p.input['command'] === 'string' ? `: ${p.input['command'].slice(0, 120)}` : '';
    lines.push(['permission?', `${p.request_id} ${p.tool_name}${cmd} (asked ${p.asked_at})`]);
  }
  const text = c.result ?? c.last_text;
  // A failed run's result text is claude's error message, already on the error line.
  if (text && !(error !== undefined && error.includes(text.trim()))) {
    lines.push([c.result !== null ? 'result' : 'last text', text.length > 200 ? `${text.slice(0, 199)}…` : text]);
  }
  return lines;
}

/** The parts of a run's outcome a failure message is made of (a `claude` object or a claude_result). */
type Outcome = Pick<ClaudeRunInfo, 'state' | 'subtype' | 'api_error_status'> & { error?: string | null; error_type?: string | null };

/**
 * Why a run failed, in one line: its `error` (the daemon's best reason), then its kind and HTTP
 * status when they add something: `Invalid API key · Fix external API key (authentication_failed,
 * API error 401)`. The `subtype` alone is never the reason (claude says `success` on API errors).
 */
export function failureText(c: Outcome): string {
  const why = c.error != null ? cliReason(c.error) : c.subtype === null || c.subtype === 'success' ? 'no reason given' : c.subtype;
  const tags: string[] = [];
  if (c.error_type) tags.push(c.error_type);
  if (c.api_error_status !== null) tags.push(`API error ${c.api_error_status}`);
  const stalled = c.state === 'stalled' && !why.includes('stall') ? ' (stopped by the stall watchdog)' : '';
  return `${why}${tags.length > 0 ? ` (${tags.join(', ')})` : ''}${stalled}`;
}
