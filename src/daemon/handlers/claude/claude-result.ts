import { ENDED_STATUSES } from '../../../protocol/schemas/processes.js';
import type { ClaudeRunInfo } from '../../../protocol/schemas/claude.js';
import { readFullResult } from '../../claude/full-result.js';
import { emptyClaudeInfo } from '../../claude/tracker.js';
import { CommandError } from '../../command-error.js';
import type { Handler } from '../../registry.js';

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
