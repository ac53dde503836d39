import type { ClaudeRunInfo } from '../../../protocol/schemas/claude.js';
import type { ClaudeRuns } from '../../claude/runs.js';
import { CommandError } from '../../command-error.js';
import type { Supervisor } from '../../supervisor/index.js';

/**
 * Shared by the live-session commands: the record of `id` must be a live claude session
 * (PROCESS_NOT_FOUND, NOT_A_CLAUDE_RUN, NOT_INTERACTIVE otherwise). Returns its `claude` object.
 */
export function requireLive(sup: Supervisor, runs: ClaudeRuns, id: string, command: string): ClaudeRunInfo {
  const rec = sup.get(id);
  if (!runs.isClaude(rec)) {
    throw new CommandError('NOT_A_CLAUDE_RUN', `process ${id} is not a claude run; ${command} needs a live session (spawn_claude with interactive: true)`);
  }
  const info = rec.claude as ClaudeRunInfo | undefined;
  if (info?.interactive !== true) {
    throw new CommandError('NOT_INTERACTIVE', `claude run ${id} is not a live session (it was spawned without interactive: true), so it takes no ${command}; spawn_claude with interactive: true for one`);
  }
  return info;
}

/** The SESSION_CLOSED error for `id`, saying what to do instead. */
export function sessionClosed(id: string, why: string): CommandError {
  return new CommandError('SESSION_CLOSED', `live session ${id} ${why}; spawn_claude again (resume: its session_id continues the conversation)`);
}
