/**
 * The text half of each tool result: what the model actually reads (Claude Code passes a tool's
 * text content to the model). Short, one fact per line, ids first, so a model can act on it
 * without parsing JSON; the structured content carries everything else.
 */
import type { ProcessRecord } from '../protocol/schemas/processes.js';
import type { GroupInfo } from '../protocol/schemas/scheduling.js';

/** Seconds, minutes or hours, for people: 850ms, 12s, 4m05s, 2h07m. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** The claude object's fields this layer reads (the record types it as unknown values). */
interface ClaudeFields {
  state?: string;
  num_turns?: number;
  total_cost_usd?: number | null;
  is_error?: boolean | null;
  error?: string | null;
  last_text?: string | null;
  session_id?: string | null;
}

function claudeOf(r: ProcessRecord): ClaudeFields | undefined {
  return r.claude as ClaudeFields | undefined;
}

/** `$0.12` (or `$0.0031` for fractions of a cent). */
export function cost(usd: number): string {
  return usd >= 0.01 ? `$${usd.toFixed(2)}` : `$${usd.toPrecision(2)}`;
}

/** How a process is doing in a few words: `exited 0`, `killed (SIGTERM)`, `working, 7 turns, $0.12`. */
export function statusPhrase(r: ProcessRecord): string {
  const c = claudeOf(r);
  if (r.status === 'running' && c !== undefined) {
    const parts = [c.state ?? 'running', `${c.num_turns ?? 0} turn${c.num_turns === 1 ? '' : 's'}`];
    if (typeof c.total_cost_usd === 'number') parts.push(cost(c.total_cost_usd));
    return parts.join(', ');
  }
  if (r.status === 'running' && r.started_at !== null) return `running for ${duration(Date.now() - Date.parse(r.started_at))}`;
  if (r.status === 'exited') return `exited ${r.exit_code}`;
  if (r.status === 'killed') return r.signal === null ? 'killed while queued (it never ran)' : `killed (${r.signal})`;
  if (r.status === 'failed' || r.status === 'lost') return `${r.status}${r.reason !== null ? `: ${r.reason}` : ''}`;
  return r.status;
}

/** One line per record: `id  status phrase  (command)`. */
export function recordLine(r: ProcessRecord): string {
  const c = claudeOf(r);
  const what = c !== undefined ? 'claude run' : r.cmd.join(' ').slice(0, 80);
  const verdict = c !== undefined && r.status !== 'running' && r.status !== 'queued' && c.is_error != null ? (c.is_error ? ', run failed' : ', run succeeded') : '';
  return `${r.process_id}: ${statusPhrase(r)}${verdict} (${what})`;
}

/** A record in a few lines: the status line, then what a model would look at next. */
export function recordText(r: ProcessRecord): string {
  const lines = [recordLine(r)];
  if (r.pid !== null) lines.push(`pid ${r.pid}, cwd ${r.cwd}`);
  if (r.reason !== null && r.status !== 'failed' && r.status !== 'lost') lines.push(`reason: ${r.reason}`);
  lines.push(`output: ${r.stdout_bytes} bytes stdout, ${r.stderr_bytes} bytes stderr (read_output)`);
  const c = claudeOf(r);
  if (c !== undefined) {
    if (c.session_id) lines.push(`session ${c.session_id}`);
    if (c.error) lines.push(`error: ${c.error}`);
    if (c.last_text) lines.push(`last text: ${c.last_text}`);
  }
  return lines.join('\n');
}

/** A list: counts, then one line per record (the newest `limit`, older ones counted). */
export function listText(records: ProcessRecord[], totals: Record<string, number>, limit = 50): string {
  const counts = Object.entries(totals)
    .filter(([k, n]) => n > 0 && k !== 'total_cost_usd')
    .map(([k, n]) => `${n} ${k}`);
  const head = `${records.length} process${records.length === 1 ? '' : 'es'}${counts.length > 0 ? ` (${counts.join(', ')})` : ''}`;
  const cost$ = typeof totals['total_cost_usd'] === 'number' && totals['total_cost_usd'] > 0 ? `; claude cost ${cost(totals['total_cost_usd'])}` : '';
  const shown = records.slice(-limit);
  const more = records.length > shown.length ? [`(${records.length - shown.length} older not shown; see structured content)`] : [];
  return [head + cost$, ...more, ...shown.map(recordLine)].join('\n');
}

/**
 * The progress line of a `wait`: `2 of 5 ended; claude-ab12 working, 7 turns, $0.12; build running
 * for 3m05s` (at most three still running named, the rest counted).
 */
export function waitProgress(total: number, ended: number, running: ProcessRecord[]): string {
  const named = running.slice(0, 3).map((r) => `${r.process_id} ${statusPhrase(r)}`);
  if (running.length > named.length) named.push(`${running.length - named.length} more running`);
  return [`${ended} of ${total} ended`, ...named].join('; ');
}

/** One line per group: `build: 2 running, 3 queued, parallel 2, paused, $0.12 of $1.00 (held: paused)`. */
export function groupLine(g: GroupInfo): string {
  const parts = [`${g.running} running`, `${g.queued} queued${g.waiting > 0 ? ` (${g.waiting} waiting)` : ''}`, `parallel ${g.parallel === 0 ? 'unlimited' : g.parallel}`];
  if (g.paused) parts.push('paused');
  parts.push(g.budget_usd !== null ? `spent ${cost(g.spent_usd)} of ${cost(g.budget_usd)}` : `spent ${cost(g.spent_usd)}`);
  return `${g.group}: ${parts.join(', ')}${g.held !== null ? ` (held: ${g.held})` : ''}`;
}
