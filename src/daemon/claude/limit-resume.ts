/**
 * Usage limits, the claude side: a run that ended because the account hit its usage limit is not
 * a failure. The daemon holds every queued claude run until the limit resets (the scheduler's
 * usage hold), and this run is queued again under the same id to continue its session
 * (`--resume SESSION` with a short "continue" prompt), counted in `limit_resumes`, never as a
 * retry. Every claude run's end also feeds the hold: a success widens the ramp after a hold, and
 * the reported utilisation may start a hold (`--hold-at-utilization`).
 */
import type { ClaudeRunInfo } from '../../protocol/schemas/claude.js';
import type { ProcessRecord } from '../../protocol/schemas/processes.js';
import type { Logger } from '../log.js';
import type { Supervisor } from '../supervisor/index.js';
import type { SessionLocks } from './sessions.js';
import { emptyClaudeInfo } from './tracker.js';

/** The prompt a resumption sends, unless `spawn_claude {limit_resume_prompt}` says otherwise. */
export const DEFAULT_LIMIT_RESUME_PROMPT = 'Continue where you left off: you were interrupted by a usage limit, which has now reset.';
/** A run is resumed at most this many times; the next limit ends it (`usage_limit` on its record). */
export const MAX_LIMIT_RESUMES = 5;

/** Registers the resumption with the supervisor (one per daemon, from the claude observer). */
export function installLimitResume(sup: Supervisor, isClaude: (rec: ProcessRecord) => boolean, log: Logger, sessions: SessionLocks): void {
  const hold = sup.usageHold;
  sup.setResumeHook((rec) => {
    try {
      if (rec.claude === undefined || !isClaude(rec)) return undefined;
      const info = rec.claude as unknown as ClaudeRunInfo;
      hold.noteUtilization(info.rate_limit);
      const limit = info.usage_limit;
      if (limit == null) {
        if (rec.status === 'exited' && info.is_error === false) hold.succeeded();
        return undefined;
      }
      hold.hit(limit.resets_at, limit.limit_type);
      // Killed or lost at the limit, or resumed often enough: it ends (its record says why).
      if (rec.status !== 'exited' || (rec.limit_resumes ?? 0) >= MAX_LIMIT_RESUMES) return undefined;
      const cmd = info.session_id !== null ? resumeArgv(rec.cmd, info.session_id, rec.limit_resume_prompt ?? DEFAULT_LIMIT_RESUME_PROMPT) : undefined;
      // Held while queued, as a queued `resume` run holds its session (SESSION_BUSY for others).
      if (cmd !== undefined && !sessions.note(info.session_id!, rec.process_id)) log.warn(`process ${rec.process_id} will resume claude session ${info.session_id}, which process ${sessions.holder(info.session_id!)} is using`);
      // No session to continue (it stopped before claude said its id): the same command again.
      const next = emptyClaudeInfo();
      next.stall_timeout_s = info.stall_timeout_s;
      return { cmd: cmd ?? rec.cmd, claude: next as unknown as Record<string, unknown> };
    } catch (err) {
      log.error(`usage limit: deciding about ${rec.process_id}`, err);
      return undefined;
    }
  });
}

/**
 * `cmd` (built by spawn_claude: flags, then `--`, then the prompt) turned into a resumption of
 * `session` with `prompt`: any `--resume`/`--session-id`/`--continue` dropped, `--resume SESSION`
 * added. undefined for a command line of another shape (spawn_process): it is run again as it is.
 */
export function resumeArgv(cmd: readonly string[], session: string, prompt: string): string[] | undefined {
  const n = cmd.length;
  if (n < 3 || cmd[n - 2] !== '--') return undefined;
  const out: string[] = [];
  const head = cmd.slice(0, n - 2);
  for (let i = 0; i < head.length; i++) {
    const a = head[i]!;
    if (a === '--resume' || a === '-r' || a === '--session-id') {
      i++;
      continue;
    }
    if (a === '--continue' || a === '-c' || a.startsWith('--resume=') || a.startsWith('--session-id=')) continue;
    out.push(a);
  }
  return [...out, '--resume', session, '--', prompt];
}
