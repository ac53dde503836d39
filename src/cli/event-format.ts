/**
 * How event lines look to a person (`events`, `wait --any`): one line each, seq, time, type,
 * process and the few fields that matter for that type. Types only from the protocol.
 */
import type { EventLine } from '../protocol/events.js';

/** `12  00:11:16.816  ended  a  exited 0 (65 ms)` */
export function eventText(ev: EventLine): string {
  const time = ev.time.slice(11, 23);
  const seq = ev.seq === null ? '-' : String(ev.seq);
  return `${seq.padStart(6)}  ${time}  ${ev.type.padEnd(13)} ${(ev.process_id ?? '-').padEnd(12)} ${summary(ev)}`.trimEnd() + '\n';
}

function summary(ev: EventLine): string {
  const d = ev.data;
  switch (ev.type) {
    case 'spawned':
      return Array.isArray(d['cmd']) ? (d['cmd'] as string[]).join(' ').slice(0, 80) : '';
    case 'started':
      return `pid ${String(d['pid'])}${d['adopted'] === true ? ' (re-adopted)' : ''}`;
    case 'ended': {
      const how = d['status'] === 'exited' ? `exited ${String(d['exit_code'])}` : d['status'] === 'killed' ? `killed ${String(d['signal'] ?? '(never ran)')}` : String(d['status']);
      const claude = d['claude'] as Record<string, unknown> | undefined;
      const verdict = claude === undefined ? '' : ` claude ${claude['is_error'] === true ? `error: ${String(claude['error'])}` : 'ok'}${typeof claude['total_cost_usd'] === 'number' ? ` $${claude['total_cost_usd'].toFixed(4)}` : ''}`;
      return `${how}${typeof d['duration_ms'] === 'number' ? ` (${d['duration_ms']} ms)` : ''}${verdict}`;
    }
    case 'killed':
      return `${String(d['signal'] ?? 'default ladder')}: ${String(d['reason'])}`;
    case 'claude_state':
      return `${String(d['previous'] ?? '-')} -> ${String(d['state'])}`;
    case 'output':
      return `stdout ${String(d['stdout_bytes'])} B (+${String(d['stdout_new'])}), stderr ${String(d['stderr_bytes'])} B (+${String(d['stderr_new'])})`;
    case 'module_loaded':
      return `${String(d['module'])} v${String(d['version'])} (${String(d['functions'])} functions)`;
    case 'module_failed':
      return `${String(d['module'])}: ${String(d['error']).split('\n')[0]}`;
    case 'replay_gap':
      return `events ${String(d['from'])}..${String(d['to'])} are no longer in the journal`;
    case 'overflow':
      return `dropped: ${String(d['reason'])}`;
    default:
      return JSON.stringify(d).slice(0, 100);
  }
}
