/**
 * How process records look to a person: one table row each for `list`, a block for `info`, and the
 * exit code `wait` mirrors. Types only from the protocol, so the CLI never loads zod.
 */
import os from 'node:os';
import type { ProcessRecord } from '../protocol/schemas/processes.js';
import { claudeCell, claudeLines } from './claude-format.js';
import { formatDuration, renderTable } from './output.js';
import { EXIT, UsageError } from './verb.js';

/** The `list` table: id, status, pid, age or duration, command. */
export function processTable(records: readonly ProcessRecord[], now = Date.now()): string {
  const rows = records.map((r) => [r.process_id, statusText(r), r.pid === null ? '-' : String(r.pid), timeText(r, now), r.claude ? claudeCell(r) : commandText(r.cmd, 80)]);
  return renderTable(['ID', 'STATUS', 'PID', 'TIME', 'COMMAND'], rows);
}

/** `exited 3`, `killed SIGTERM`, `running`, ... */
export function statusText(r: ProcessRecord): string {
  if (r.status === 'exited') return `exited ${r.exit_code ?? '?'}`;
  // Only a process killed while queued has no signal: it never ran.
  if (r.status === 'killed') return r.signal ? `killed ${r.signal}` : 'killed (never ran)';
  return r.status;
}

/** Running: time since start; ended: how long it ran; queued: time waiting. */
function timeText(r: ProcessRecord, now: number): string {
  if (r.status === 'queued') return `queued ${formatDuration(now - Date.parse(r.created_at))}${r.held ? `: ${r.held}` : ''}`;
  if (r.status === 'running' && r.started_at) return formatDuration(now - Date.parse(r.started_at));
  return r.duration_ms === null ? '-' : formatDuration(r.duration_ms);
}

/** The command as a shell line (quoted where needed), cut to `max` characters. */
export function commandText(cmd: readonly string[], max = Infinity): string {
  const s = cmd.map((a) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** A record as `key: value` lines for `info`. */
export function recordBlock(r: ProcessRecord): string {
  const lines: Array<[string, string]> = [
    ['id', r.process_id],
    ['status', statusText(r)],
    ['pid', r.pid === null ? '-' : String(r.pid)],
    ['command', commandText(r.cmd)],
    ['cwd', r.cwd],
  ];
  if (r.name !== null) lines.push(['name', r.name]);
  if (r.group !== undefined && (r.group !== 'default' || (r.priority ?? 0) !== 0)) lines.push(['group', `${r.group}${(r.priority ?? 0) !== 0 ? ` (priority ${r.priority})` : ''}`]);
  if (r.after !== undefined) lines.push(['after', `${r.after.join(', ')} (${r.after_condition ?? 'success'})`]);
  if (r.start_at !== undefined) lines.push(['start at', r.start_at]);
  if (r.held) lines.push(['held', r.held]);
  lines.push(['created', r.created_at]);
  if (r.started_at) lines.push(['started', r.started_at]);
  if (r.ended_at) lines.push(['ended', r.ended_at]);
  if (r.duration_ms !== null) lines.push(['duration', formatDuration(r.duration_ms)]);
  lines.push(['output', `${r.stdout_bytes} bytes stdout, ${r.stderr_bytes} bytes stderr`]);
  if (r.timeout_s !== null) lines.push(['timeout', `${r.timeout_s}s`]);
  if (r.reason !== null) lines.push(['reason', r.reason]);
  if (typeof r.parent === 'string') lines.push(['parent', r.parent]);
  if (typeof r.idempotency_key === 'string') lines.push(['idempotency key', r.idempotency_key]);
  if (r.descendants !== null && r.descendants > 0) lines.push(['descendants', `${r.descendants} still alive (${r.descendants_grace_s === null ? 'kept' : `ended ${r.descendants_grace_s}s after the command`})`]);
  if (r.claude) lines.push(...claudeLines(r));
  const w = Math.max(...lines.map(([k]) => k.length));
  return lines.map(([k, v]) => `${`${k}:`.padEnd(w + 1)} ${v}`).join('\n') + '\n';
}

/**
 * The exit code `wait` mirrors: the child's own code; 128+n for death by signal n (as a shell
 * reports it); 143 (as SIGTERM) for a process killed while queued, which never ran and so has no
 * signal; 127 when it could not start; 124 when the wait timed out (like timeout(1)); 1 for `lost`
 * (the outcome is unknown).
 */
export function mirroredExitCode(r: ProcessRecord & { timed_out?: true }): number {
  if (r.timed_out) return EXIT.timedOut;
  if (r.status === 'exited') return r.exit_code ?? 1;
  if (r.status === 'killed') {
    const n = r.signal ? (os.constants.signals as Record<string, number>)[r.signal] : undefined;
    return 128 + (n ?? os.constants.signals.SIGTERM);
  }
  if (r.status === 'failed') return 127;
  return 1;
}

/** The single process id positional of `info`, `logs`, `wait`, `rm`. */
export function oneId(positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'give a process id' : 'give exactly one process id');
  return positionals[0]!;
}

/** A flag's numeric value, or undefined when absent. */
export function numberFlag(v: unknown, flag: string, opts: { int?: boolean; min?: number } = {}): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n) || (opts.int && !Number.isInteger(n)) || n < (opts.min ?? 0)) {
    throw new UsageError(`${flag} takes a ${opts.int ? 'whole ' : ''}number of at least ${opts.min ?? 0}, not '${String(v)}'`);
  }
  return n;
}

/**
 * `--signal` as a person types it: a name with or without SIG, any case (`KILL`, `sigint`,
 * `SIGTERM`) or a number (`9`), returned as the daemon's `SIGKILL` form.
 */
export function signalFlag(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  const table = os.constants.signals as Record<string, number>;
  const text = String(v).trim();
  let name: string | undefined;
  if (/^[0-9]+$/.test(text)) name = Object.keys(table).find((k) => table[k] === Number(text));
  else {
    const upper = text.toUpperCase();
    const candidate = upper.startsWith('SIG') ? upper : `SIG${upper}`;
    if (table[candidate] !== undefined) name = candidate;
  }
  if (name === undefined) throw new UsageError(`--signal takes a signal name or number (TERM, INT, KILL, HUP, 9, 15, ...; \`kill -l\` lists them), not '${text}'`);
  return name;
}
