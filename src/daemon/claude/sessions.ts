/**
 * One writer per claude session: two processes appending to one session file interleave their
 * turns and corrupt it, so the daemon refuses a second live run on a session id (`SESSION_BUSY`).
 * A run holds its session from the moment it is accepted (a `resume`/`session_id` request, even
 * while queued) or its stream first names the session, until its process ends.
 */
import { CommandError } from '../command-error.js';

/** Which live process holds which session id. */
export class SessionLocks {
  private readonly holders = new Map<string, string>();

  /** Takes `session` for `processId`, or throws SESSION_BUSY naming the holder. */
  acquire(session: string, processId: string): void {
    this.acquireCheck(session, processId);
    this.holders.set(session, processId);
  }

  /** Throws SESSION_BUSY when a process other than `processId` holds `session`. */
  acquireCheck(session: string, processId?: string): void {
    const holder = this.holders.get(session);
    if (holder !== undefined && holder !== processId) {
      throw new CommandError(
        'SESSION_BUSY',
        `claude session ${session} is in use by process ${holder}; wait_process or kill_process it first (two writers corrupt a session)`,
      );
    }
  }

  /** Records that `processId` uses `session` if nobody else holds it; false when someone does. */
  note(session: string, processId: string): boolean {
    const holder = this.holders.get(session);
    if (holder !== undefined && holder !== processId) return false;
    this.holders.set(session, processId);
    return true;
  }

  /** Frees every session `processId` holds. */
  releaseAll(processId: string): void {
    for (const [s, p] of this.holders) if (p === processId) this.holders.delete(s);
  }

  /** The process holding `session`, if any. */
  holder(session: string): string | undefined {
    return this.holders.get(session);
  }
}

/**
 * The session a claude command line will write to, when it says so up front: `--session-id X`, or
 * `--resume X` / `-r X` unless `--fork-session` makes the resume write a new session.
 */
export function sessionOfArgv(cmd: readonly string[]): string | undefined {
  let resume: string | undefined;
  let explicit: string | undefined;
  let fork = false;
  for (let i = 1; i < cmd.length; i++) {
    const a = cmd[i]!;
    if (a === '--') break;
    const next = cmd[i + 1];
    if ((a === '--resume' || a === '-r') && next !== undefined && !next.startsWith('-')) resume = next;
    else if (a.startsWith('--resume=')) resume = a.slice('--resume='.length);
    else if (a === '--session-id' && next !== undefined) explicit = next;
    else if (a.startsWith('--session-id=')) explicit = a.slice('--session-id='.length);
    else if (a === '--fork-session') fork = true;
  }
  return explicit ?? (fork ? undefined : resume);
}
