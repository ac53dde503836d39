/**
 * The claude observer: makes every `claude -p --output-format stream-json` process a first-class
 * run. It plugs into the supervisor's hooks only (spawned/ended/removed events, `updateClaude`, a
 * kill planner, a totals contributor), so the supervisor knows nothing about claude. Per live run
 * it keeps a FileFollower on the run's stdout file and a StreamTracker, whose `info` object is the
 * record's `claude` object itself: reads of the record always see the latest parsed state, and
 * disk writes are throttled to state changes plus one a second.
 */
import type { ClaudeRunInfo } from '../../protocol/schemas/claude.js';
import type { ProcessRecord } from '../../protocol/schemas/processes.js';
import type { Logger } from '../log.js';
import type { KillRequest, Supervisor } from '../supervisor/index.js';
import { capBudgetArgv } from './argv.js';
import { isClaudeStreamCommand } from './detect.js';
import { explainEnd } from './failure.js';
import { FileFollower, readFileSync } from './follow.js';
import { installLimitResume } from './limit-resume.js';
import { LiveSessions } from './live.js';
import { PermissionRouter } from './permissions.js';
import { addCostTotal, claudeLadder } from './ladder.js';
import { SessionLocks, sessionOfArgv } from './sessions.js';
import { slimClaudeResult } from './slim.js';
import { emptyClaudeInfo, StreamTracker } from './tracker.js';

/** Disk writes of a running run's `claude` object, at most this often (besides state changes). */
const PERSIST_EVERY_MS = 1000;

interface Watch {
  readonly id: string;
  readonly tracker: StreamTracker;
  readonly follower: FileFollower;
  stallTimer: NodeJS.Timeout | undefined;
  lastPersist: number;
  lastState: string;
  lastSession: string | null;
  sawResult: boolean;
}

/** One per daemon; see the file comment. */
export class ClaudeRuns {
  /** Session ids held by live runs (SESSION_BUSY). */
  readonly sessions = new SessionLocks();
  /** Live sessions (`interactive: true`): their input, queued turns and turn list. */
  readonly live: LiveSessions;
  /** Permission prompts of `permissions: "ask"` runs: pending until answered or timed out. */
  readonly permissions: PermissionRouter;
  private readonly watches = new Map<string, Watch>();

  constructor(
    private readonly sup: Supervisor,
    private readonly log: Logger,
    private readonly claudeBin: string | undefined = process.env['CLAUDE_BIN'],
  ) {
    this.live = new LiveSessions(sup, log);
    this.permissions = new PermissionRouter(sup, this.live, log);
    // These run inside the supervisor's own bookkeeping: nothing may throw out of them.
    const guard = (what: string, fn: () => void): void => {
      try {
        fn();
      } catch (err) {
        this.log.error(`claude observer: ${what}`, err);
      }
    };
    sup.on('spawned', (rec, info) => guard(`spawned ${rec.process_id}`, () => this.onSpawned(rec, info.stdoutPath)));
    sup.on('ended', (rec) => guard(`ended ${rec.process_id}`, () => this.onEnded(rec)));
    sup.on('removed', (id) => guard(`removed ${id}`, () => this.forget(id)));
    // Retries: an attempt's verdict is settled before the retry decision reads it; a retried run
    // starts its next attempt with a fresh object (its own settings kept).
    sup.on('attemptEnded', (rec) => guard(`attempt of ${rec.process_id}`, () => this.onEnded(rec)));
    sup.on('retrying', (rec) => guard(`retry of ${rec.process_id}`, () => this.onRetrying(rec)));
    // Kills without an explicit signal stop a claude run the claude way; others keep the default.
    sup.addKillPlanner((entry, req) => (req.signal === undefined && this.isClaude(entry.record) ? claudeLadder(req) : undefined));
    sup.addTotals(addCostTotal);
    sup.addSlimmer(slimClaudeResult);
    // Budgets (scheduler/budget.ts) hold claude runs only, and each starts capped at what is left.
    sup.budget.applies = (rec) => this.isClaude(rec);
    sup.addStartHook((rec) => {
      if (!this.isClaude(rec)) return;
      const left = sup.budget.remaining(rec);
      if (left !== null) capBudgetArgv(rec.cmd, left);
    });
    // Usage limits: a run stopped by the limit is queued again to continue (limit-resume.ts).
    installLimitResume(sup, (rec) => this.isClaude(rec), log, this.sessions);
    // Records the supervisor restored (and may have started or ended) before we subscribed.
    for (const rec of sup.list().processes) {
      if (!this.isClaude(rec)) continue;
      // A queued live session takes messages before it starts (its queue is in its directory).
      if (rec.status === 'queued' && (rec.claude as ClaudeRunInfo | undefined)?.interactive === true) this.live.attach(rec.process_id);
      const session = sessionOfArgv(rec.cmd);
      if (rec.status === 'running') this.onSpawned(rec, sup.outputPath(rec.process_id, 'stdout'));
      else if (rec.status === 'queued' && session !== undefined) this.sessions.note(session, rec.process_id);
      else if (rec.status !== 'queued' && !isFinal(rec.claude)) this.onEnded(rec);
    }
  }

  /** True when `rec` is a claude run (spawned by spawn_claude, or a matching command line). */
  isClaude(rec: ProcessRecord): boolean {
    return rec.claude !== undefined || isClaudeStreamCommand(rec.cmd, this.claudeBin);
  }

  /**
   * For `spawn_process`: refuses (SESSION_BUSY) a claude command line that resumes or names a
   * session a live run holds. A check, not a reservation: the run takes the session when it starts.
   */
  checkCommand(cmd: readonly string[]): void {
    if (!isClaudeStreamCommand(cmd, this.claudeBin)) return;
    const session = sessionOfArgv(cmd);
    if (session !== undefined) this.sessions.acquireCheck(session);
  }

  /** Reads what the run has written since the last look (before answering about it). */
  async refresh(id: string): Promise<void> {
    await this.watches.get(id)?.follower.poll();
  }

  private onSpawned(rec: ProcessRecord, stdoutPath: string): void {
    if (!this.isClaude(rec) || this.watches.has(rec.process_id)) return;
    const id = rec.process_id;
    const old = rec.claude as ClaudeRunInfo | undefined;
    // Re-derive everything from the file (a restarted daemon re-reads it from the start); only the
    // run's own settings and the sticky stall mark carry over.
    const info = emptyClaudeInfo();
    info.stall_timeout_s = old?.stall_timeout_s ?? null;
    if (old?.state === 'stalled') info.state = 'stalled';
    const interactive = carryLive(old, info);
    if (interactive) this.live.attach(id);
    const session = sessionOfArgv(rec.cmd);
    if (session !== undefined && !this.sessions.note(session, id)) {
      this.log.warn(`process ${id} resumes claude session ${session}, which process ${this.sessions.holder(session)} is using`);
    }
    const asks = interactive && info.permissions === 'ask';
    if (asks) this.permissions.attach(id, info);
    const tracker = new StreamTracker(
      interactive ? { onTurnEnded: (end) => this.live.turnEnded(id, end), ...(asks ? { onControl: (line: Record<string, unknown>) => this.permissions.onControl(id, line) } : {}) } : {},
      info,
    );
    const w: Watch = {
      id,
      tracker,
      follower: new FileFollower(stdoutPath, (chunk) => this.onData(w, chunk), { pollMs: 500 }),
      stallTimer: undefined,
      lastPersist: Date.now(),
      lastState: info.state,
      lastSession: null,
      sawResult: false,
    };
    this.watches.set(id, w);
    this.sup.updateClaude(id, info);
    if (interactive) this.live.started(id, info);
    if (info.stall_timeout_s !== null && info.state !== 'stalled') this.armStall(w, info.stall_timeout_s * 1000);
  }

  private onData(w: Watch, chunk: Buffer): void {
    const t = w.tracker;
    t.push(chunk);
    const info = t.info;
    const session = info.session_id;
    let changed = info.state !== w.lastState || t.hasResult !== w.sawResult;
    if (session !== w.lastSession && session !== null) {
      if (!this.sessions.note(session, w.id)) this.log.warn(`process ${w.id} writes claude session ${session}, which process ${this.sessions.holder(session)} is using`);
      w.lastSession = session;
      changed = true;
    }
    const now = Date.now();
    if (changed || now - w.lastPersist >= PERSIST_EVERY_MS) {
      w.lastState = info.state;
      w.sawResult = t.hasResult;
      w.lastPersist = now;
      this.sup.updateClaude(w.id, info);
    }
  }

  /**
   * Synchronous on purpose: `ended` is emitted before anyone woken by the end runs, so a
   * `wait_process` or `claude_result` reply carries the final object.
   */
  private onEnded(rec: ProcessRecord): void {
    const id = rec.process_id;
    const w = this.watches.get(id);
    let tracker: StreamTracker;
    if (w !== undefined) {
      w.follower.finishSync();
      if (w.stallTimer) clearInterval(w.stallTimer);
      this.watches.delete(id);
      tracker = w.tracker;
    } else {
      if (!this.isClaude(rec)) return;
      // Ended before we watched it (never started, killed while queued, ended while the daemon was down).
      const old = rec.claude as ClaudeRunInfo | undefined;
      const info = emptyClaudeInfo();
      info.stall_timeout_s = old?.stall_timeout_s ?? null;
      if (old?.state === 'stalled') info.state = 'stalled';
      const interactive = carryLive(old, info);
      if (interactive) {
        this.live.attach(id);
        this.live.bind(id, info);
      }
      tracker = new StreamTracker(interactive ? { onTurnEnded: (end) => this.live.turnEnded(id, end) } : {}, info);
      readFileSync(this.sup.outputPath(id, 'stdout'), (c) => tracker.push(c));
    }
    tracker.finish();
    this.permissions.detach(id);
    explainEnd(tracker.info, rec, this.sup.outputPath(id, 'stderr'));
    this.live.ended(id);
    this.sessions.releaseAll(id);
    this.sup.updateClaude(id, tracker.info);
  }

  private onRetrying(rec: ProcessRecord): void {
    if (rec.claude === undefined) return;
    const info = emptyClaudeInfo();
    info.stall_timeout_s = (rec.claude as unknown as ClaudeRunInfo).stall_timeout_s ?? null;
    rec.claude = info as unknown as Record<string, unknown>;
  }

  private forget(id: string): void {
    this.live.forget(id);
    this.permissions.detach(id);
    const w = this.watches.get(id);
    if (w === undefined) return;
    w.follower.close();
    if (w.stallTimer) clearInterval(w.stallTimer);
    this.watches.delete(id);
    this.sessions.releaseAll(id);
  }

  /** A run whose stream shows nothing new for `ms` is marked stalled and stopped. */
  private armStall(w: Watch, ms: number): void {
    w.stallTimer = setInterval(() => void this.checkStall(w, ms), Math.max(50, Math.min(1000, ms / 4)));
    w.stallTimer.unref();
  }

  private async checkStall(w: Watch, ms: number): Promise<void> {
    // A live session between turns is quiet by design: the watchdog counts from the next turn.
    if (w.tracker.info.state === 'idle') {
      w.tracker.lastActivityMs = Date.now();
      return;
    }
    if (Date.now() - w.tracker.lastActivityMs <= ms) return;
    await w.follower.poll(); // Maybe it did write and inotify was late.
    if (Date.now() - w.tracker.lastActivityMs <= ms || this.watches.get(w.id) !== w || w.tracker.info.state === 'stalled') return;
    if (w.stallTimer) clearInterval(w.stallTimer);
    w.stallTimer = undefined;
    w.tracker.markStalled();
    this.sup.updateClaude(w.id, w.tracker.info);
    const reason = `stalled: no stream event for ${ms / 1000} s (stall_timeout_s)`;
    this.log.warn(`claude run ${w.id} ${reason}; stopping it`);
    // Mid-stream, SIGINT makes claude write its result line; after the result there is nothing more
    // to say, and a second (interrupted) result would only blur the verdict.
    const req: KillRequest = w.tracker.hasResult ? { signal: 'SIGTERM', reason } : { reason };
    await this.sup.kill(w.id, req).catch((err: unknown) => this.log.error(`stopping stalled run ${w.id}`, err));
  }
}

/**
 * A `claude` object that already holds the run's end state (nothing left to derive). One saved by
 * a daemon that predates `error` is derived again, so every ended run says why it failed.
 */
function isFinal(claude: Record<string, unknown> | undefined): boolean {
  return (
    claude !== undefined &&
    claude['is_error'] !== null &&
    claude['is_error'] !== undefined &&
    claude['error'] !== undefined &&
    (claude['state'] === 'done' || claude['state'] === 'stalled')
  );
}

/** Copies a live session's settings from the stored object to a fresh one; true for a live session. */
function carryLive(old: ClaudeRunInfo | undefined, info: ClaudeRunInfo): boolean {
  if (old?.interactive !== true) return false;
  info.interactive = true;
  info.idle_timeout_s = old.idle_timeout_s ?? null;
  info.turns = [];
  info.input_closed = old.input_closed ?? false;
  if (old.permissions === 'ask') {
    info.permissions = 'ask';
    if (old.permission_timeout_s !== undefined) info.permission_timeout_s = old.permission_timeout_s;
    if (old.auto_allow !== undefined) info.auto_allow = old.auto_allow;
    if (old.auto_deny !== undefined) info.auto_deny = old.auto_deny;
    info.pending_permissions = [];
  }
  return true;
}
