/**
 * What feeds the hub: the supervisor's hooks (created, spawned, kill, ended, removed, claude), the
 * module host's load outcomes, the usage hold's `held`/`released`, the live sessions' ended turns
 * (once per turn: a restarted daemon re-reads every turn, the journal says which it has), and, only while some watch asks for `output`, a 250 ms poll of the
 * running processes' output sizes. At start, `reconcile` compares the restored records with what
 * the journal last said of each (a daemon killed between an end and its journal write, or a
 * process that ended while no daemon ran) and emits what is missing, never an event twice.
 */
import { ENDED_STATUSES, type ProcessRecord } from '../../protocol/schemas/processes.js';
import type { LiveSessions } from '../claude/live.js';
import type { Logger } from '../log.js';
import type { ModuleHost } from '../modules/index.js';
import type { Supervisor } from '../supervisor/index.js';
import type { EventHub } from './hub.js';

/** How often output sizes are looked at while a watch asks for `output` (its throttle). */
export const OUTPUT_POLL_MS = 250;

/** The parts of a claude run's object an `ended` event carries: the verdict and the cost. */
const CLAUDE_END_FIELDS = ['state', 'is_error', 'error', 'total_cost_usd', 'num_turns', 'session_id'] as const;

/** Subscribes the hub to the daemon's domains; returns what stops the output poll. */
export function feedEvents(hub: EventHub, sup: Supervisor, modules: ModuleHost, log: Logger, live?: LiveSessions): { reconcile(): void; stop(): void } {
  const known = hub.journal.known;
  const claudeStates = hub.journal.knownClaude;
  const turnsSeen = hub.journal.knownTurns;
  const guard =
    <A extends unknown[]>(what: string, fn: (...a: A) => void) =>
    (...a: A): void => {
      try {
        fn(...a);
      } catch (err) {
        log.error(`event feed: ${what}`, err);
      }
    };

  const spawned = (rec: ProcessRecord): void => {
    hub.emit('spawned', rec.process_id, { cmd: rec.cmd, cwd: rec.cwd, name: rec.name, claude: rec.claude !== undefined });
    known.set(rec.process_id, 'spawned');
  };
  const started = (rec: ProcessRecord, adopted: boolean): void => {
    hub.emit('started', rec.process_id, { pid: rec.pid, adopted });
    known.set(rec.process_id, 'started');
  };
  const ended = (rec: ProcessRecord): void => {
    if (known.get(rec.process_id) === 'ended') return;
    known.set(rec.process_id, 'ended');
    // Built at flush time: the claude observer's `ended` hook (same turn) has set the verdict by then.
    hub.emit('ended', rec.process_id, () => endedData(rec));
  };

  sup.on('created', guard('created', spawned));
  sup.on('spawned', guard('spawned', (rec, info) => {
    if (!info.adopted || known.get(rec.process_id) === 'spawned') started(rec, info.adopted);
  }));
  sup.on('kill', guard('kill', (rec, req) => hub.emit('killed', rec.process_id, { reason: req.reason, signal: req.signal ?? null })));
  sup.on('ended', guard('ended', ended));
  sup.on('removed', guard('removed', (id) => {
    hub.emit('removed', id, {});
    known.delete(id);
    claudeStates.delete(id);
    turnsSeen.delete(id);
    sizes.delete(id);
  }));
  sup.on('claude', guard('claude', (id, claude) => {
    const state = claude['state'];
    if (typeof state !== 'string' || claudeStates.get(id) === state) return;
    hub.emit('claude_state', id, { state, previous: claudeStates.get(id) ?? null });
    claudeStates.set(id, state);
  }));
  const hold = sup.usageHold as Supervisor['usageHold'] | undefined;
  hold?.on('held', guard('held', (info) => hub.emit('held', undefined, { ...info })));
  hold?.on('released', guard('released', (info) => hub.emit('released', undefined, { ...info })));
  live?.on('turn_ended', guard('turn_ended', (id: string, n: number) => {
    if (n <= (turnsSeen.get(id) ?? 0)) return;
    turnsSeen.set(id, n);
    const t = live.turns(id)?.[n - 1];
    hub.emit('turn_ended', id, { turn: n, state: t?.state ?? null, is_error: t?.is_error ?? null, subtype: t?.subtype ?? null, cost_usd: t?.cost_usd ?? null, started_at: t?.started_at ?? null, ended_at: t?.ended_at ?? null });
  }));
  modules.onEvent(guard('module', (e) => {
    const { type, ...data } = e;
    hub.emit(type, undefined, data);
  }));

  // Output sizes, only while someone asks.
  const sizes = new Map<string, { out: number; err: number }>();
  let poll: NodeJS.Timeout | undefined;
  let wanted: ReadonlyArray<ReadonlySet<string> | undefined> = [];
  hub.onOutputInterest = (filters) => {
    wanted = filters;
    if (filters.length === 0 && poll !== undefined) {
      clearInterval(poll);
      poll = undefined;
    } else if (filters.length > 0) {
      poll ??= setInterval(guard('output poll', pollOutput), OUTPUT_POLL_MS).unref();
    }
  };
  const pollOutput = (): void => {
    const all = wanted.some((f) => f === undefined);
    for (const rec of sup.list('running').processes) {
      if (!all && !wanted.some((f) => f?.has(rec.process_id))) continue;
      const was = sizes.get(rec.process_id) ?? { out: 0, err: 0 };
      if (rec.stdout_bytes === was.out && rec.stderr_bytes === was.err) continue;
      sizes.set(rec.process_id, { out: rec.stdout_bytes, err: rec.stderr_bytes });
      hub.emit('output', rec.process_id, { stdout_bytes: rec.stdout_bytes, stderr_bytes: rec.stderr_bytes, stdout_new: rec.stdout_bytes - was.out, stderr_new: rec.stderr_bytes - was.err });
    }
  };

  return {
    reconcile: guard('reconcile', () => {
      const journalWasEmpty = hub.journal.lastSeq === 0;
      for (const rec of sup.list().processes) {
        const id = rec.process_id;
        if (rec.claude !== undefined && typeof rec.claude['state'] === 'string' && !claudeStates.has(id)) claudeStates.set(id, rec.claude['state']);
        let s = known.get(id);
        if (s === undefined) {
          // Unknown to the journal: created after its last event (its own were lost with a daemon
          // killed before writing them), or older than what it holds (nothing is made up about it).
          if (journalWasEmpty || Date.parse(rec.created_at) < hub.journal.lastTimeAtLoad) continue;
          spawned(rec);
          s = 'spawned';
        }
        if (s === 'spawned' && rec.started_at !== null && rec.status !== 'queued') started(rec, true);
        if (ENDED_STATUSES.has(rec.status)) ended(rec);
      }
    }),
    stop: () => {
      if (poll !== undefined) clearInterval(poll);
      poll = undefined;
    },
  };
}

/** An `ended` event's data: the outcome, and for a claude run its verdict and cost. */
function endedData(rec: ProcessRecord): Record<string, unknown> {
  const data: Record<string, unknown> = {
    status: rec.status,
    exit_code: rec.exit_code,
    signal: rec.signal,
    reason: rec.reason,
    duration_ms: rec.duration_ms,
    stdout_bytes: rec.stdout_bytes,
    stderr_bytes: rec.stderr_bytes,
  };
  if (rec.claude !== undefined) {
    const c: Record<string, unknown> = {};
    for (const k of CLAUDE_END_FIELDS) c[k] = rec.claude[k] ?? null;
    data['claude'] = c;
  }
  return data;
}
