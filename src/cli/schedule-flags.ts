/**
 * The scheduling flags `spawn` and `claude` share (`--group`, `--priority`, `--after`,
 * `--after-condition`, `--start-after`, `--start-at`, `--retry...`), parsed once into the wire parameters so both
 * verbs stay in step with the protocol's SCHEDULE_FIELDS.
 */
import { numberFlag } from './process-format.js';
import { UsageError } from './verb.js';

/** Help lines for the flags. */
export const SCHEDULE_HELP = [
  '  --group G                 scheduling group (default "default"; see `group`)',
  '  --priority N              higher starts first within its group (integer, default 0)',
  '  --after ID                start only after process ID has ended (repeatable, or ID,ID,...)',
  '  --after-condition C       success (default: exit code 0, else this is skipped) or ended (any end)',
  '  --start-after S           do not start before S seconds from now',
  '  --start-at TIME           do not start before TIME (ISO 8601, e.g. 2030-01-02T03:04:05Z)',
  '  --retry N                 start a failed attempt again, up to N times (exit code not 0; claude: failure verdict)',
  '  --retry-backoff S         seconds before the first retry (default 1), doubling each time',
  '  --retry-on LIST           only these failures count: exit codes, api_error, stall, timeout (comma-separated)',
  '  --retry-resume            claude runs: a retry resumes the failed attempt\'s session (--resume)',
];

/** parseArgs options for the flags. */
export const SCHEDULE_OPTIONS = {
  group: { type: 'string' },
  priority: { type: 'string' },
  after: { type: 'string', multiple: true },
  'after-condition': { type: 'string' },
  'start-after': { type: 'string' },
  'start-at': { type: 'string' },
  retry: { type: 'string' },
  'retry-backoff': { type: 'string' },
  'retry-on': { type: 'string' },
  'retry-resume': { type: 'boolean' },
} as const;

/** The wire fields the flags give. */
export interface ScheduleParams {
  group?: string;
  priority?: number;
  after?: string[];
  after_condition?: 'success' | 'ended';
  start_after_s?: number;
  start_at?: string;
  retry?: { max: number; backoff_s?: number; on?: (number | 'api_error' | 'stall' | 'timeout')[]; resume?: boolean };
}

/** Reads the flags from parsed values; throws UsageError for a malformed one. */
export function scheduleParams(values: Record<string, unknown>): ScheduleParams {
  const p: ScheduleParams = {};
  if (typeof values['group'] === 'string') p.group = values['group'];
  const prio = values['priority'];
  if (prio !== undefined) {
    const n = Number(prio);
    if (typeof prio !== 'string' || prio.trim() === '' || !Number.isInteger(n)) throw new UsageError(`--priority takes a whole number (negative allowed), not '${String(prio)}'`);
    p.priority = n;
  }
  const after = values['after'];
  if (Array.isArray(after)) p.after = after.flatMap((a) => String(a).split(',')).filter((a) => a !== '');
  const cond = values['after-condition'];
  if (cond !== undefined) {
    if (cond !== 'success' && cond !== 'ended') throw new UsageError(`--after-condition is success or ended, not '${String(cond)}'`);
    p.after_condition = cond;
  }
  const delay = numberFlag(values['start-after'], '--start-after', { min: 0 });
  if (delay !== undefined) p.start_after_s = delay;
  if (typeof values['start-at'] === 'string') p.start_at = values['start-at'];
  const retry = retryParams(values);
  if (retry !== undefined) p.retry = retry;
  return p;
}

/** `--retry N` and its companions; the companions without `--retry` are a usage error. */
function retryParams(values: Record<string, unknown>): ScheduleParams['retry'] {
  const max = numberFlag(values['retry'], '--retry', { min: 1, int: true });
  if (max === undefined) {
    for (const f of ['retry-backoff', 'retry-on', 'retry-resume']) if (values[f] !== undefined) throw new UsageError(`--${f} needs --retry N (how many times to retry)`);
    return undefined;
  }
  const r: NonNullable<ScheduleParams['retry']> = { max };
  const backoff = numberFlag(values['retry-backoff'], '--retry-backoff', { min: 0 });
  if (backoff !== undefined) r.backoff_s = backoff;
  if (typeof values['retry-on'] === 'string') {
    r.on = values['retry-on'].split(',').filter((w) => w !== '').map((w) => {
      if (w === 'api_error' || w === 'stall' || w === 'timeout') return w;
      if (/^\d+$/.test(w)) return Number(w);
      throw new UsageError(`--retry-on takes exit codes and api_error, stall, timeout (comma-separated), not '${w}'`);
    });
  }
  if (values['retry-resume'] === true) r.resume = true;
  return r;
}
