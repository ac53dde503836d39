/**
 * The supervisor's inner life, under the public commands (supervisor.ts): launching through the
 * wrapper, the queue, re-adoption at startup, watching adopted processes, recording outcomes, and
 * persisting records. Kept apart so each file reads as one concern.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_DESCENDANTS_GRACE_S, type ProcessRecord, type ProcessStatus } from '../../protocol/schemas/processes.js';
import { CommandError } from '../command-error.js';
import { ioCommandError, isTransient } from '../io-error.js';
import { randomHex } from '../lazy-crypto.js';
import type { Logger } from '../log.js';
import { BudgetGate, GroupStore, Scheduler } from '../scheduler/index.js';
import { backoffMs, moveAttemptFiles, recordFinalAttempt, requeueForRetry, retryHeld, shouldRetry } from '../scheduler/retry.js';
import { UsageHold } from '../scheduler/usage-hold.js';
import { Entry, type WatchMode } from './entry.js';
import { RecordIndex } from './record-index.js';
import { leftovers, runTreeLadder, signalTree, type KillRequest } from './kill.js';
import { launch, LaunchError, type ExitReport } from './launch.js';
import { LineageIndex } from './lineage.js';
import { releaseCgroup, wrapperLimitArgs, type PidsLimit } from './pids-limit.js';
import { isAlive, liveness, wrapperFor } from './proc.js';
import { RecordWriter } from './persist.js';
import { Settler } from './settle.js';
import { DEFAULT_KEEP_ENDED, DEFAULT_KEEP_ENDED_FOR_S, EndedIndex, type Retention } from './retention.js';
import { currentBootId, earlierBoot } from '../state/boot.js';
import { signalName } from './signals.js';
import { ProcessDir, readExit, readExitChecked, readStarted, sizeOf, type ExitFile, type StoredProcess } from './store.js';

/** Paths and limits the supervisor needs; resolved by createSupervisor. */
export interface SupervisorOptions {
  root: string;
  wrapper: string | undefined;
  maxRunning: number;
  /** The per-process limit on processes/threads (pids-limit.ts). */
  pidsLimit: PidsLimit;
  log: Logger;
  /** How often re-adopted processes (no longer our children) are checked. */
  pollMs?: number;
  /** Which ended records are kept (retention.ts); default 10,000 and 7 days. */
  retention?: Retention;
  /** The state directory (groups.json lives there); without it group settings live in memory only. */
  home?: string;
  /** `start --budget-usd`: the daemon-wide spending budget for claude runs (scheduler/budget.ts). */
  budgetUsd?: number | null;
  /** `start --hold-at-utilization` (usage-hold.ts). */
  holdAtUtilization?: number;
}

/**
 * Called with a record about to start (queued or direct), before its `running` record is written:
 * it may change the command line (the claude domain caps `--max-budget-usd` at what the budget leaves).
 */
export type StartHook = (rec: ProcessRecord) => void;

/**
 * Decides, as a record ends (after `ended` listeners ran, before waiters wake), whether it is
 * re-queued instead: the usage-limit resumption (claude/limit-resume.ts). Returns the command line
 * and `claude` object of the next attempt, or undefined to let it end.
 */
export type ResumeHook = (rec: ProcessRecord) => { cmd: string[]; claude: Record<string, unknown> } | undefined;

/**
 * Event payloads. `spawned` fires when a command starts running, and for each process re-adopted at
 * startup (`adopted: true`); `ended` once per process with its final record; `removed` on removal;
 * `created`, `kill` and `claude` feed the event journal (src/daemon/events).
 */
export interface SupervisorEvents {
  spawned: [record: ProcessRecord, info: { adopted: boolean; stdoutPath: string; stderrPath: string }];
  ended: [record: ProcessRecord];
  /** A record with `retry` ended an attempt (before the retry decision: the claude observer settles the verdict). */
  attemptEnded: [record: ProcessRecord];
  /** That attempt is retried: the record is queued again for its next attempt. */
  retrying: [record: ProcessRecord];
  removed: [processId: string];
  /** A record was accepted by `spawn` (before it starts or queues); the event journal's `spawned`. */
  created: [record: ProcessRecord];
  /** A kill began: its reason and the signal asked for (undefined: the process's own ladder). */
  kill: [record: ProcessRecord, req: { reason: string; signal: string | undefined }];
  /** `updateClaude` replaced a record's `claude` object (the event journal's `claude_state`). */
  claude: [processId: string, claude: Record<string, unknown>];
}

/** State and lifecycle shared by the public supervisor; see the file comment. */
export abstract class Lifecycle extends EventEmitter<SupervisorEvents> {
  /** Every record, by id, by status and in order of creation, with running totals (record-index.ts). */
  protected readonly entries = new RecordIndex();
  /** Decides when queued records start (src/daemon/scheduler). */
  protected readonly sched: Scheduler<Entry>;
  /** Spending budgets (scheduler/budget.ts): a start gate of the scheduler, fed every record's cost. */
  readonly budget: BudgetGate;
  protected readonly startHooks: StartHook[] = [];
  protected readonly watched = new Set<Entry>();
  protected running = 0;
  protected seq = 0;
  protected poll: NodeJS.Timeout | undefined;
  protected stopping = false;
  /** Records waiting for the coalesced write (persistSoon). */
  private readonly dirty = new Set<Entry>();
  private dirtySince: number | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  /** Queued processes start only once this is set (openQueue). */
  private queueOpen = false;
  /** Writes records, retrying those the disk refused (persist.ts). */
  protected readonly writer: RecordWriter;
  /** A queued process waits for its `running` record to be writable (see drainQueue). */
  private drainTimer: NodeJS.Timeout | undefined;
  /** Who holds which idempotency key, and each record's children (lineage.ts). */
  readonly lineage = new LineageIndex((id) => this.entries.has(id));
  /** Ended records in order of end, and the retention limits over them (retention.ts). */
  protected readonly endedIndex: EndedIndex;
  /** Makes ended records cheap in memory once they are settled (settle.ts). */
  protected readonly settler: Settler;
  /** Usage limits: re-queues a run that hit the limit (setResumeHook). */
  protected resumeHook: ResumeHook | undefined;

  constructor(protected readonly opts: SupervisorOptions) {
    super();
    this.on('removed', (id) => this.lineage.forget(id));
    this.writer = new RecordWriter((e) => this.entries.get(e.id) === e, opts.log);
    this.endedIndex = new EndedIndex(opts.retention ?? { maxCount: DEFAULT_KEEP_ENDED, maxAgeMs: DEFAULT_KEEP_ENDED_FOR_S * 1000 }, (id) => this.expire(id));
    this.settler = new Settler((e) => this.settle(e));
    const host = {
      maxRunning: opts.maxRunning,
      runningTotal: () => this.running,
      lookup: (id: string) => this.entries.get(id),
      skip: (e: Entry, reason: string) => this.finish(e, { status: 'skipped', exit_code: null, signal: null, ended_at_ms: Date.now(), reason }),
      wake: () => this.drainQueue(),
    };
    const groups = new GroupStore(opts.home, opts.log);
    this.sched = new Scheduler<Entry>(host, groups);
    this.budget = new BudgetGate(groups, opts.budgetUsd ?? null);
    this.sched.addGate(this.budget);
    this.sched.useHold(new UsageHold(opts.home, opts.log, opts.holdAtUtilization));
  }

  /** Runs the start hooks on `e` (they must not throw; one that does is logged and skipped). */
  protected beforeStart(e: Entry): void {
    if (this.startHooks.length === 0) return;
    e.record.cmd = [...e.record.cmd]; // the hooks' changes are this record's alone
    for (const h of this.startHooks) {
      try {
        h(e.record);
      } catch (err) {
        this.opts.log.error(`start hook for ${e.id}`, err);
      }
    }
  }

  /** Removes a record the retention limits expired; false when it cannot go now. */
  protected abstract expire(id: string): boolean;

  /** Settles `e` if it may be now (settle.ts). */
  protected abstract settle(e: Entry): 'done' | 'later' | 'never';

  /** Ends a process with its ladder; implemented by the public supervisor (timeouts use it). */
  protected abstract killEntry(e: Entry, req: KillRequest): Promise<ProcessRecord>;

  /** Restores a stored process at daemon start: re-adopts, recovers its outcome, or requeues it. */
  async restore(stored: StoredProcess): Promise<void> {
    const e = new Entry(stored, new ProcessDir(this.opts.root, stored.record.process_id));
    this.entries.set(stored.record.process_id, e);
    this.lineage.add(stored.record);
    this.seq = Math.max(this.seq, stored.seq);
    // Records written before these fields existed: the schema's defaults fill them in on load.
    // Loaded without the schema (tests, older callers): the same defaults; null grace means kept.
    if ((stored.record as Partial<ProcessRecord>).descendants_grace_s === undefined) stored.record.descendants_grace_s = DEFAULT_DESCENDANTS_GRACE_S;
    stored.record.descendants ??= e.ended ? 0 : null;
    this.budget.note(stored.record);
    if (stored.record.status === 'queued') {
      this.sched.restore(e);
      return;
    }
    if (stored.record.status !== 'running') {
      // Ended, but its wrapper still keeps descendants the command left behind: watch until it exits.
      if (e.ended && stored.wrapper_pid !== null && stored.wrapper_start !== null && earlierBoot(stored.boot_id, stored.record.started_at) === undefined && isAlive(stored.wrapper_pid, stored.wrapper_start)) {
        e.lingering = true;
        this.adopt(e, 'wrapper');
      }
      this.settler.soon(e);
      return;
    }
    this.running++;
    this.sched.running(e, 1);
    if (stored.record.pid === null) {
      // The daemon died mid-launch: the wrapper may have started the command all the same.
      let st = await readStarted(e.pd);
      // A wrapper for this directory exists: it is about to write `started` (give it 2 s).
      if (st === undefined && wrapperFor(e.pd.dir)) {
        for (let i = 0; i < 100 && st === undefined; i++) {
          await new Promise((r) => setTimeout(r, 20));
          st = await readStarted(e.pd);
        }
      }
      if (st !== undefined) {
        stored.record.pid = st.pid;
        Object.assign(stored, { pid_start: st.pidStart, wrapper_pid: st.wrapperPid, wrapper_start: st.wrapperStart });
        this.persist(e);
      } else {
        // It never ran (no wrapper, nothing recorded): back in the queue, in its original place.
        this.running--;
        this.sched.running(e, -1);
        this.entries.setStatus(e, 'queued');
        stored.record.started_at = null;
        this.sched.restore(e); // the scheduler orders by seq: its original place
        this.persist(e);
        return;
      }
    }
    // Pids and start times mean nothing across a reboot: never adopt (or later signal) one from before it.
    const rebooted = earlierBoot(stored.boot_id, stored.record.started_at);
    if (rebooted !== undefined) {
      const ex = readExit(e.pd);
      this.finish(e, ex !== undefined ? outcome(ex) : { status: 'lost', exit_code: null, signal: null, ended_at_ms: Date.now(), reason: rebooted });
      return;
    }
    if (stored.wrapper_pid !== null && stored.wrapper_start !== null && isAlive(stored.wrapper_pid, stored.wrapper_start)) {
      this.adopt(e, 'wrapper');
      // Its command has ended already (the wrapper stays for leftovers): say so now, not at the
      // first poll (the record on disk may predate the end: outcome writes are coalesced).
      if (fs.existsSync(e.pd.exit)) this.cmdEnded(e);
    } else {
      this.wrapperGone(e);
    }
    if (!e.ended) this.emit('spawned', this.view(e), { adopted: true, stdoutPath: e.pd.output('stdout'), stderrPath: e.pd.output('stderr') });
  }

  /** Lets queued processes start from now on (the daemon serves), and starts those that fit. */
  openQueue(): void {
    this.queueOpen = true;
    this.sched.open();
    this.drainQueue();
  }

  /**
   * Starts queued processes while there is room (after restore, and whenever one ends). Each is
   * persisted as `running` (pid null) before its launch, so a daemon dying mid-launch never starts
   * it twice; while that record cannot be written (disk full), the process stays queued and this is
   * tried again every second.
   */
  drainQueue(): void {
    while (this.queueOpen && !this.stopping) {
      const e = this.sched.next();
      if (e === undefined) return;
      const rec = e.record;
      const cmd = rec.cmd;
      try {
        // A retry: the previous attempt's files go aside first (again, if a crash came between).
        if (rec.attempts !== undefined && rec.attempts.length > 0) moveAttemptFiles(e.pd.dir, rec.attempts.length);
        this.beforeStart(e);
        this.entries.setStatus(e, 'running');
        rec.started_at = new Date().toISOString();
        delete rec.held;
        this.writer.writeOrThrow(e);
      } catch (err) {
        this.entries.setStatus(e, 'queued');
        rec.started_at = null;
        rec.cmd = cmd;
        this.opts.log.warn(`queued process ${rec.process_id} waits: its record cannot be written (${(err as Error).message})`);
        this.drainTimer ??= setTimeout(() => {
          this.drainTimer = undefined;
          this.drainQueue();
        }, 1000).unref();
        return;
      }
      e.retryPending = false;
      delete rec.retry_at;
      this.sched.take(e);
      this.start(e, true).catch((err: unknown) => {
        if (!(err instanceof CommandError)) this.opts.log.error(`starting queued process ${e.record.process_id}`, err);
      });
    }
  }

  /**
   * Launches `e`. Everything before the first await runs synchronously, so `starting` is set (and
   * the slot taken) the moment this is called. A direct spawn is acknowledged only once its record
   * is on disk: if that write fails, its command is killed and the spawn refused (refuseStarted).
   */
  protected async start(e: Entry, fromQueue = false): Promise<void> {
    const rec = e.record;
    const gen = ++e.generation; // before any await: news of an earlier attempt's wrapper is stale from now on
    this.running++;
    this.sched.running(e, 1);
    this.entries.setStatus(e, 'running');
    rec.started_at = new Date().toISOString();
    e.stored.boot_id = currentBootId();
    let done!: () => void;
    e.starting = new Promise((r) => (done = r));
    try {
      if (this.opts.wrapper === undefined) throw new LaunchError('the process wrapper claude-daemon-wrap is missing; rebuild with `node scripts/build.mjs` (needs a C compiler)');
      // Lineage: every child knows its own id, so the clients it runs send it as `parent`.
      const env = { ...process.env, ...e.stored.env, CLAUDE_DAEMON_PROCESS_ID: rec.process_id };
      const l = await launch({ mkdir: !e.stored.has_stdin, wrapper: this.opts.wrapper, dir: e.pd.dir, cmd: rec.cmd, cwd: rec.cwd, env, hasStdin: e.stored.has_stdin, fifo: e.stored.stdin_fifo, limitArgs: [...wrapperLimitArgs(this.opts.pidsLimit, rec.process_id), '-g', graceArg(rec.descendants_grace_s)] });
      rec.pid = l.pid;
      Object.assign(e.stored, { wrapper_pid: l.wrapperPid, wrapper_start: l.wrapperStart, pid_start: l.pidStart });
      // The wrapper's report (no file involved) ends it the moment the command ends, also when the
      // wrapper stays on for the command's leftovers; else, once reaped, its exit file.
      // Unwatched (the launcher died): poll the wrapper, as after a restart.
      // An earlier attempt's wrapper (retries) reports only the end of the tree it kept.
      void l.reported.then((ex) => e.generation === gen && this.cmdReported(e, ex));
      e.wrapperLive = true;
      l.exited
        .then((end) => {
          if (e.generation !== gen) return;
          if (end !== 'reaped') return this.adopt(e, 'wrapper');
          e.wrapperLive = false;
          this.wrapperGone(e);
        })
        .catch((err: unknown) => this.opts.log.error('after a wrapper exit', err));
      if (fromQueue) this.persist(e); // acknowledged when it was queued: a failed write is retried
      else {
        try {
          this.writer.writeOrThrow(e);
        } catch (err) {
          await this.refuseStarted(e, err);
        }
      }
      this.armTimeout(e);
      this.emit('spawned', this.view(e), { adopted: false, stdoutPath: e.pd.output('stdout'), stderrPath: e.pd.output('stderr') });
    } catch (err) {
      if (e.discarded) throw err; // refused after all: already ended and forgotten
      // Out of descriptors or space before anything ran: refused, nothing kept (queued: retried).
      if (err instanceof LaunchError && isTransient(err)) {
        if (fromQueue) {
          this.requeue(e, err);
          return;
        }
        this.discard(e, err.message);
        throw ioCommandError(err, `cannot start ${JSON.stringify(rec.cmd[0])}`, 'nothing was started or kept') ?? err;
      }
      // Whatever went wrong, the slot is released and the record says so.
      const message = err instanceof Error ? err.message : String(err);
      this.finish(e, { status: 'failed', exit_code: null, signal: null, ended_at_ms: Date.now(), reason: message });
      if (!(err instanceof LaunchError)) throw err;
      throw new CommandError('SPAWN_FAILED', `cannot start ${JSON.stringify(rec.cmd[0])}: ${message}; the record stays with status failed`);
    } finally {
      e.starting = undefined;
      done();
    }
  }

  /**
   * Watches a process that is not (or no longer) our child by polling /proc: after a restart its
   * wrapper's parent is pid 1, so no SIGCHLD reaches us. `cmd` mode is the fallback when the
   * wrapper died but the command lives on.
   */
  protected adopt(e: Entry, mode: WatchMode): void {
    e.watch = mode;
    this.watched.add(e);
    this.armTimeout(e);
    this.poll ??= setInterval(() => this.pollWatched(), this.opts.pollMs ?? 100).unref();
  }

  /**
   * One polling round over adopted processes; a zombie counts as ended. A live wrapper whose exit
   * file exists has outlived its command (it keeps leftovers): the command's outcome is final.
   */
  protected pollWatched(): void {
    for (const e of this.watched) {
      const s = e.stored;
      const alive = e.watch === 'wrapper' ? liveness(s.wrapper_pid!, s.wrapper_start!) : s.record.pid !== null ? liveness(s.record.pid, s.pid_start!) : 'dead';
      if (alive !== 'dead') {
        // `unknown`: out of descriptors; look again next round.
        if (alive === 'alive' && e.watch === 'wrapper' && !e.ended && !e.retryPending && fs.existsSync(e.pd.exit)) this.cmdEnded(e);
        continue;
      }
      this.watched.delete(e);
      this.wrapperGone(e, e.watch === 'cmd');
    }
    if (this.watched.size === 0 && this.poll !== undefined) {
      clearInterval(this.poll);
      this.poll = undefined;
    }
  }

  /**
   * A polled (adopted) wrapper still lives although its exit file exists: the command has ended and
   * the wrapper stays on for descendants it left behind. The record ends now (waits return), the
   * tree is watched until the wrapper exits. (A launched one says so in its report: cmdReported.)
   */
  protected cmdEnded(e: Entry): void {
    if (e.ended || e.retryPending) return;
    const ex = readExit(e.pd);
    if (ex === undefined) return; // Nothing readable: the wrapper's own exit settles it (wrapperGone).
    e.lingering = true;
    this.finish(e, outcome(ex));
  }

  /**
   * The wrapper's report: the command has ended. Final at once; when the wrapper stays on for
   * descendants the command left behind, its tree is watched until it exits (`exited`, treeGone).
   */
  protected cmdReported(e: Entry, ex: ExitReport): void {
    if (e.ended || e.retryPending) return;
    if (ex.lingering === true) e.lingering = true;
    this.finish(e, outcome(ex));
  }

  /** The wrapper is gone: read what it recorded; else keep watching the command, else `lost`. */
  protected wrapperGone(e: Entry, cmdGone = false): void {
    if (e.retryPending) {
      this.retryWrapperGone(e);
      return;
    }
    if (e.ended) {
      this.treeGone(e);
      return;
    }
    const ex = readExitChecked(e.pd);
    if ('exit' in ex) {
      this.finish(e, outcome(ex.exit));
      return;
    }
    const s = e.stored;
    const cmd = !cmdGone && s.record.pid !== null && s.pid_start !== null ? liveness(s.record.pid, s.pid_start) : 'dead';
    if ('retry' in ex || cmd === 'unknown') {
      // Unreadable for now (no descriptor left, EIO): not an unknown outcome, only a late one.
      setTimeout(() => this.wrapperGone(e, cmdGone), 250).unref();
      return;
    }
    if (cmd === 'alive') {
      this.opts.log.warn(`process ${s.record.process_id}: its wrapper died; watching the command itself (its outcome will be unknown)`);
      this.adopt(e, 'cmd');
      return;
    }
    const reason = s.record.pid === null
      ? 'the daemon stopped while starting it; no outcome was recorded'
      : 'it ended while unwatched and its wrapper recorded no outcome (the wrapper was killed?)';
    this.finish(e, { status: 'lost', exit_code: null, signal: null, ended_at_ms: Date.now(), reason });
  }

  /** A lingering wrapper has exited: every leftover of the command has ended (or escaped it). */
  protected treeGone(e: Entry): void {
    if (!e.lingering) return;
    this.watched.delete(e);
    e.record.descendants = 0;
    releaseCgroup(this.opts.pidsLimit, e.record.process_id);
    this.persist(e);
    e.notifyTreeEnded();
    this.settler.soon(e);
  }

  protected finish(e: Entry, o: Outcome): void {
    if (e.ended) return;
    const rec = e.record;
    const wasRunning = rec.status === 'running';
    e.retryPending = false;
    e.retryWaiting = false;
    if (wasRunning) {
      this.running--;
      this.sched.running(e, -1);
    }
    if (!e.lingering) this.watched.delete(e);
    if (e.timeoutTimer) clearTimeout(e.timeoutTimer);
    this.entries.setStatus(e, o.status);
    delete rec.held;
    rec.exit_code = o.exit_code;
    rec.signal = o.signal;
    rec.ended_at = new Date(o.ended_at_ms).toISOString();
    rec.duration_ms = rec.started_at === null ? null : Math.max(0, o.ended_at_ms - Date.parse(rec.started_at));
    rec.reason = o.reason ?? rec.reason;
    rec.stdout_bytes = sizeOf(e.pd.output('stdout'));
    rec.stderr_bytes = sizeOf(e.pd.output('stderr'));
    rec.descendants = e.lingering ? leftovers(e).length : 0;
    if (wasRunning && rec.retry !== undefined && !e.discarded && this.retryAttempt(e, o)) return;
    // An outcome the wrapper's exit file holds (or will hold: the wrapper retries it until written
    // before it exits) survives a crash without this write (restore reads the file): coalesced, so
    // ending 100 at once replies without 100 file writes in between. Any other outcome is known
    // only here: written now.
    if (!e.discarded) {
      if (o.inExitFile === true) this.persistSoon(e);
      else this.persist(e);
    }
    // The wrapper removes it once its tree has ended (it recorded the outcome, so it runs to the
    // end, or lingers: treeGone retries); only when it died early is it left to us.
    if (!e.lingering && o.inExitFile !== true) releaseCgroup(this.opts.pidsLimit, rec.process_id);
    if (!e.discarded) {
      this.emit('ended', rec);
      // Usage limit: re-queued to continue, waiters keep waiting (a listener's answer is final by now).
      const next = e.lingering || this.stopping ? undefined : this.resumeHook?.(rec);
      if (next !== undefined) return this.resumeLater(e, next);
    }
    e.notifyEnded();
    if (!e.discarded) {
      this.endedIndex.add(e.id, o.ended_at_ms);
      this.settler.soon(e);
    }
    this.sched.ended(e); // its dependants become ready, or are skipped
    this.drainQueue();
  }

  /**
   * The run hit the usage limit: not an end. Its attempt's `claude` object goes to
   * `limit_attempts`, `limit_resumes` counts up, and it is queued again (same id, same place: its
   * seq) with the resuming command line; the usage hold keeps it queued until the reset.
   */
  private resumeLater(e: Entry, next: { cmd: string[]; claude: Record<string, unknown> }): void {
    const rec = e.record;
    rec.limit_attempts = [...(rec.limit_attempts ?? []), ...(rec.claude !== undefined ? [rec.claude] : [])];
    rec.limit_resumes = (rec.limit_resumes ?? 0) + 1;
    rec.cmd = next.cmd;
    rec.claude = next.claude;
    this.entries.setStatus(e, 'queued');
    Object.assign(rec, { pid: null, exit_code: null, signal: null, started_at: null, ended_at: null, duration_ms: null, reason: null, descendants: null });
    Object.assign(e.stored, { wrapper_pid: null, wrapper_start: null, pid_start: null });
    e.generation++; // the old wrapper's reports and exit are ignored from now on
    this.watched.delete(e);
    // The next launch writes them anew; a restart must not read the interrupted attempt's outcome.
    for (const f of [e.pd.exit, path.join(e.pd.dir, 'started')]) fs.rmSync(f, { force: true });
    this.persist(e);
    this.opts.log.info(`claude run ${rec.process_id} stopped at the usage limit; queued to resume its session (resumption ${rec.limit_resumes})`);
    this.sched.add(e);
    this.drainQueue();
  }

  /**
   * An attempt of a record with `retry` has ended (scheduler/retry.ts): if it is to be retried, the
   * record is queued again (persisted now: the exit file that held the outcome is moved aside) and
   * true returned; no waiter, dependant or `ended` listener hears of it. Else the final attempt is
   * recorded and the end goes on as any other.
   */
  private retryAttempt(e: Entry, o: Outcome): boolean {
    const rec = e.record;
    this.emit('attemptEnded', rec);
    if (!shouldRetry(rec)) {
      recordFinalAttempt(rec);
      return false;
    }
    const n = (rec.attempts?.length ?? 0) + 1;
    requeueForRetry(rec, o.ended_at_ms + backoffMs(rec.retry!, n));
    this.entries.setStatus(e, 'queued'); // requeueForRetry set the field; the status index follows
    rec.descendants = null;
    this.emit('retrying', rec);
    e.retryPending = true;
    e.notifyAttemptEnded(); // a kill ladder of this attempt stops here
    this.persist(e);
    try {
      moveAttemptFiles(e.pd.dir, n);
    } catch (err) {
      this.opts.log.warn(`process ${rec.process_id}: cannot move attempt ${n}'s output aside now (${(err as Error).message}); tried again before the next attempt`);
    }
    this.opts.log.info(`process ${rec.process_id}: attempt ${n} failed; ${retryHeld(rec) ?? 'retried'}`);
    e.retryWaiting = true;
    if (o.inExitFile !== true && !e.lingering) releaseCgroup(this.opts.pidsLimit, rec.process_id);
    // Its wrapper still runs (it keeps leftovers, or is about to exit): scheduled once it is gone.
    if (!e.lingering && !e.wrapperLive) this.retryWrapperGone(e);
    this.drainQueue();
    return true;
  }

  /** The failed attempt's wrapper (and so its leftovers) is gone: its next attempt is scheduled. */
  private retryWrapperGone(e: Entry): void {
    this.watched.delete(e);
    if (!e.retryWaiting) return;
    e.retryWaiting = false;
    if (e.lingering) {
      releaseCgroup(this.opts.pidsLimit, e.record.process_id);
      e.notifyTreeEnded();
    }
    this.sched.add(e);
    this.drainQueue();
  }

  /** Registers the usage-limit resumption (one; the claude observer's). */
  setResumeHook(hook: ResumeHook): void {
    this.resumeHook = hook;
  }

  /** The usage hold (usage-hold.ts): `ping` reports it, the claude observer feeds it. */
  get usageHold(): UsageHold {
    return this.sched.usageHold!;
  }

  protected armTimeout(e: Entry): void {
    const t = e.record.timeout_s;
    if (t === null || e.record.started_at === null || this.stopping || e.ended) return;
    if (e.timeoutTimer) clearTimeout(e.timeoutTimer);
    const left = Date.parse(e.record.started_at) + t * 1000 - Date.now();
    e.timeoutTimer = setTimeout(() => {
      void this.killEntry(e, { reason: `timeout_s (${t} s) reached` }).catch(() => undefined);
    }, Math.max(0, left)).unref();
  }

  /**
   * Writes the record now (atomically, synchronously: a record is a few hundred bytes, and on the
   * spawn path two thread-pool round trips cost more latency than the write itself). Failures are
   * logged, never thrown: the in-memory record stays authoritative while the daemon lives.
   */
  protected persist(e: Entry): void {
    if (e.dirty) {
      e.dirty = false;
      this.dirty.delete(e);
    }
    if (this.entries.get(e.record.process_id) !== e) return;
    this.writer.write(e);
    // An ended record written again (unslimmed first, entry.ts) is settled again later.
    if (e.ended && !e.settled) this.settler.soon(e);
  }

  /**
   * A direct spawn whose command runs but whose record could not be written: it was never
   * acknowledged, so its command must not run on untracked. Killed (SIGKILL, its whole tree),
   * forgotten, its directory deleted; the spawn fails with the write's own code.
   */
  private async refuseStarted(e: Entry, err: unknown): Promise<never> {
    const id = e.record.process_id;
    e.discarded = true;
    signalTree(e, 'SIGKILL');
    if (!(await e.waitEnd(5000))) {
      this.opts.log.warn(`process ${id}: refused, but its command has not ended 5 s after SIGKILL`);
      this.finish(e, { status: 'failed', exit_code: null, signal: null, ended_at_ms: Date.now(), reason: 'refused' });
    }
    // Descendants it left (the wrapper stays for them): SIGKILLed as well, none may outlive the refusal.
    if (e.lingering) await runTreeLadder(e, [{ signal: 'SIGKILL', delay_ms: 0 }]);
    await this.forget(e);
    throw ioCommandError(err, `cannot write the record of process ${id}`, 'its command was stopped and nothing of it is kept')
      ?? new CommandError('STATE_IO_FAILED', `cannot write the record of process ${id}: ${(err as Error).message}; its command was stopped and nothing of it is kept`);
  }

  /** A spawn refused before anything ran: frees its slot, wakes waiters, forgets it. */
  protected discard(e: Entry, reason: string): void {
    e.discarded = true;
    this.finish(e, { status: 'failed', exit_code: null, signal: null, ended_at_ms: Date.now(), reason });
    void this.forget(e);
  }

  /** Removes a discarded entry and whatever of its directory exists. */
  private async forget(e: Entry): Promise<void> {
    if (this.entries.get(e.record.process_id) === e) this.entries.delete(e.record.process_id);
    releaseCgroup(this.opts.pidsLimit, e.record.process_id);
    await fs.promises.rm(e.pd.dir, { recursive: true, force: true, maxRetries: 5 }).catch((err: unknown) => this.opts.log.warn(`cannot delete ${e.pd.dir}: ${(err as Error).message}`));
  }

  /** A queued process that could not start for want of descriptors or space: back to the queue head. */
  private requeue(e: Entry, err: Error): void {
    this.running--;
    this.sched.running(e, -1);
    this.entries.setStatus(e, 'queued');
    e.record.started_at = null;
    this.sched.add(e); // back in its place (priority, then arrival)
    this.persist(e);
    this.opts.log.warn(`queued process ${e.record.process_id} could not start (${err.message}); retrying in 1 s`);
    this.drainTimer ??= setTimeout(() => {
      this.drainTimer = undefined;
      this.drainQueue();
    }, 1000).unref();
  }

  /**
   * Persists soon, coalescing: every record marked within a burst is written in one flush, once
   * 50 ms pass without a new mark (at most 500 ms after the first). For changes a daemon crash
   * cannot make wrong: the claude observer's per-event updates, a kill's reason, an outcome the
   * wrapper's exit file already holds (a restart reads it there). Ending 100 processes at once thus
   * replies to all before writing any record, and never wakes a thread-pool worker (on a busy
   * machine each wake-up preempts the event loop) while it still has signals to send.
   */
  protected persistSoon(e: Entry): void {
    if (!e.dirty) {
      e.dirty = true;
      this.dirty.add(e);
    }
    const now = Date.now();
    this.dirtySince ??= now;
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    const wait = Math.max(0, Math.min(50, this.dirtySince + 500 - now));
    this.flushTimer = setTimeout(() => this.flushDirty(), wait).unref();
  }

  /** Drops a pending coalesced write (the record is being removed). */
  protected dropPending(e: Entry): void {
    e.dirty = false;
    this.dirty.delete(e);
  }

  /** Writes every record marked by persistSoon (at daemon stop too). */
  protected flushDirty(): void {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.dirtySince = undefined;
    for (const e of [...this.dirty]) this.persist(e);
  }

  /** The record with live figures (sizes, duration) filled in for a running process. */
  protected view(e: Entry): ProcessRecord {
    const rec = e.record;
    if (e.lingering) rec.descendants = leftovers(e).length;
    if (rec.status === 'queued') rec.held = this.sched.held(e);
    if (rec.status !== 'running' || rec.started_at === null) return rec;
    rec.stdout_bytes = sizeOf(e.pd.output('stdout'));
    rec.stderr_bytes = sizeOf(e.pd.output('stderr'));
    rec.duration_ms = Date.now() - Date.parse(rec.started_at);
    return rec;
  }

  /** The record for a reply: view(e), or for a slim record the whole one from disk (entry.ts). */
  protected reply(e: Entry): ProcessRecord {
    return e.slim === undefined ? this.view(e) : e.replyRecord();
  }

  protected entry(id: string): Entry {
    const e = this.entries.get(id);
    if (e === undefined) throw new CommandError('PROCESS_NOT_FOUND', `no process with id ${JSON.stringify(id)}; list_processes shows the known ones`);
    return e;
  }

  protected newId(): string {
    for (;;) {
      const id = `p-${randomHex(4)}`;
      if (!this.entries.has(id)) return id;
    }
  }
}

export { DEFAULT_DESCENDANTS_GRACE_S };

/** The wrapper's `-g` value: milliseconds, or -1 to keep the leftovers. */
function graceArg(graceS: number | null): string {
  return graceS === null ? '-1' : String(Math.round(graceS * 1000));
}

/** How a process ended, as finish() records it. */
export interface Outcome {
  status: ProcessStatus;
  exit_code: number | null;
  signal: string | null;
  ended_at_ms: number;
  reason?: string;
  /** The wrapper's exit file holds this outcome already (a restart would read it there). */
  inExitFile?: true;
}

/** The record fields for what the wrapper wrote in `exit`. */
export function outcome(ex: ExitFile): Outcome {
  if (ex.signal !== null) return { status: 'killed', exit_code: null, signal: signalName(ex.signal), ended_at_ms: ex.ended_at_ms, inExitFile: true };
  if (ex.exit_code !== null) return { status: 'exited', exit_code: ex.exit_code, signal: null, ended_at_ms: ex.ended_at_ms, inExitFile: true };
  return { status: 'lost', exit_code: null, signal: null, ended_at_ms: ex.ended_at_ms, reason: 'the wrapper could not collect the exit status' };
}
