/**
 * How claude runs look to a person in the process verbs (`list`, `info`): state, verdict and cost
 * instead of a long command line. Kept in the claude domain so the process verbs only call it.
 */
import type { ClaudeRunInfo } from '../protocol/schemas/claude.js';
import type { ProcessRecord } from '../protocol/schemas/processes.js';

/** `list`'s COMMAND cell for a claude run: `claude done $0.0012 'the prompt…'`. */
export function claudeCell(r: ProcessRecord, max = 80): string {
  const c = r.claude as ClaudeRunInfo;
  const prompt = r.cmd[r.cmd.length - 1] ?? '';
  const head = `claude ${stateText(c)} ${costText(c.total_cost_usd)} `;
  const room = Math.max(8, max - head.length - 2);
  const p = prompt.length > room ? `${prompt.slice(0, room - 1)}…` : prompt;
  return `${head}'${p.replace(/\s+/g, ' ')}'`;
}

/** `starting`, `working`, `done`, `done (error)`, `stalled (error)`. */
export function stateText(c: ClaudeRunInfo): string {
  return c.is_error === true ? `${c.state} (error)` : c.state;
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
  if (c.subtype) lines.push(['subtype', `${c.subtype}${c.api_error_status !== null ? ` (API error ${c.api_error_status})` : ''}`]);
  const text = c.result ?? c.last_text;
  if (text) lines.push([c.result !== null ? 'result' : 'last text', text.length > 200 ? `${text.slice(0, 199)}…` : text]);
  return lines;
}
