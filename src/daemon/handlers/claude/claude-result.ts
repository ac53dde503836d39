import { ENDED_STATUSES } from '../../../protocol/schemas/processes.js';
import type { ClaudeResultReply, ClaudeRunInfo } from '../../../protocol/schemas/claude.js';
import { readFullResult } from '../../claude/full-result.js';
import { emptyClaudeInfo } from '../../claude/tracker.js';
import { CommandError } from '../../command-error.js';
import type { Handler } from '../../registry.js';
import type { Services } from '../../services.js';
import { requireLive } from './live-session.js';

/**
 * `claude_result`: the run's final text and verdict, read from its `result` line (never guessed
 * from the exit code). With `wait`, replies once the process has ended (or `timeout_s` passed).
 */
export const claudeResult: Handler<'claude_result'> = async (p, { services, signal, resultSlot }) => {
  const sup = services.processes;
  const runs = services.claude;
  let rec = sup.get(p.process_id);
  if (!runs.isClaude(rec)) {
    throw new CommandError('NOT_A_CLAUDE_RUN', `process ${p.process_id} is not a \`claude -p --output-format stream-json\` run; use read_output for its output`);
  }
  if (p.turn !== undefined) return turnResult(p.process_id, p.turn, p.wait === true, p.timeout_s, services, signal);
  let timedOut = false;
  if (p.wait === true && !ENDED_STATUSES.has(rec.status)) {
    const w = await sup.wait(p.process_id, p.timeout_s, signal);
    timedOut = w.timed_out === true;
    rec = w;
  } else {
    await runs.refresh(p.process_id);
  }
  // A queued run detected from its command line has no object yet.
  const info = (rec.claude as ClaudeRunInfo | undefined) ?? emptyClaudeInfo();
  // The full text is read into memory before its size is known: take a result slot first (after the wait).
  if (info.result_truncated) await resultSlot?.();
  const result = info.result_truncated ? await readFullResult(sup.outputPath(p.process_id, 'stdout')) : info.result;
  return {
    result,
    is_error: info.is_error,
    subtype: info.subtype,
    api_error_status: info.api_error_status,
    // Records written before these fields existed lack them.
    error: info.error ?? null,
    error_type: info.error_type ?? null,
    session_id: info.session_id,
    state: info.state,
    running: !ENDED_STATUSES.has(rec.status),
    ...(timedOut ? { timed_out: true } : {}),
  };
};

/** `claude_result {turn}`: one turn of a live session; with `wait`, once it has ended (or cannot run). */
async function turnResult(id: string, n: number, wait: boolean, timeoutS: number | undefined, services: Services, signal: AbortSignal): Promise<ClaudeResultReply> {
  const sup = services.processes;
  const runs = services.claude;
  requireLive(sup, runs, id, 'claude_result {turn}');
  const exists = (): boolean => (runs.live.turns(id)?.length ?? 0) >= n;
  if (!exists()) {
    throw new CommandError('INVALID_PARAMS', `turn: live session ${id} has ${runs.live.turns(id)?.length ?? 0} turns so far; send_message returns the number of each new one`);
  }
  let timedOut = false;
  if (wait && !runs.live.turnSettled(id, n)) timedOut = !(await waitTurn(runs, id, n, timeoutS, signal));
  await runs.refresh(id);
  const rec = sup.get(id);
  const info = rec.claude as ClaudeRunInfo;
  const t = runs.live.turns(id)![n - 1]!;
  return {
    result: t.result, is_error: t.is_error, subtype: t.subtype, api_error_status: null,
    error: t.is_error === true ? (t.state === 'interrupted' ? 'interrupted (interrupt)' : (info.error ?? t.result)) : null,
    error_type: null, session_id: info.session_id, state: info.state, running: !ENDED_STATUSES.has(rec.status),
    turn: t, ...(timedOut ? { timed_out: true } : {}),
  };
}

/** Resolves true once turn `n` has settled, false on timeout or when the request is abandoned. */
function waitTurn(runs: Services['claude'], id: string, n: number, timeoutS: number | undefined, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const done = (ok: boolean): void => {
      runs.live.off('changed', check);
      signal.removeEventListener('abort', abort);
      if (timer !== undefined) clearTimeout(timer);
      resolve(ok);
    };
    const check = (pid: string): void => {
      if (pid === id && runs.live.turnSettled(id, n)) done(true);
    };
    const abort = (): void => done(false);
    runs.live.on('changed', check);
    signal.addEventListener('abort', abort);
    if (timeoutS !== undefined) timer = setTimeout(() => done(false), timeoutS * 1000);
    check(id);
  });
}
