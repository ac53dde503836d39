/**
 * The process supervisor: spawns commands through the native wrapper, queues them beyond
 * `maxRunning`, ends them with a tree kill, answers waits, and persists every record before it is
 * acknowledged. Other domains build on it through documented hooks: `spawn(spec)`, the `spawned`
 * and `ended` events, `updateClaude`, `addKillPlanner` and `addTotals`.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ListProcessesResult, ProcessRecord, ProcessStatus, RemoveProcessResult, WaitResult } from '../../protocol/schemas/processes.js';
import { CommandError } from '../command-error.js';
import type { Logger } from '../log.js';
import type { ShutdownOptions } from '../services.js';
import { Entry, type WatchMode } from './entry.js';
import { defaultLadder, runLadder, type KillPlanner, type KillRequest } from './kill.js';
import { launch, LaunchError } from './launch.js';
import { isAlive, wrapperFor } from './proc.js';
import { signalName } from './signals.js';
import { ProcessDir, readExit, readStarted, sizeOf, writeStored, type ExitFile, type StoredProcess } from './store.js';

/** What a spawn asks for; `spawn_process`'s parameters, plus an initial `claude` object. */
export interface SpawnSpec {
  cmd: string[];
  process_id?: string | undefined;
  cwd?: string | undefined;
  env?: Record<string, string> | undefined;
  stdin?: string | undefined;
  timeout_s?: number | undefined;
  name?: string | undefined;
  /** Stored with the record from the start (the claude observer's object). */
  claude?: Record<string, unknown> | undefined;
}

/** Paths and names the supervisor needs; resolved by createSupervisor. */
export interface SupervisorOptions {
  root: string;
  wrapper: string | undefined;
  maxRunning: number;
  log: Logger;
  /** How often re-adopted processes (no longer our children) are checked. */
  pollMs?: number;
}

/** Event payloads. `spawned` fires when a command starts running (`adopted` after a restart). */
export interface SupervisorEvents {
  spawned: [record: ProcessRecord, info: { adopted: boolean; stdoutPath: string; stderrPath: string }];
  ended: [record: ProcessRecord];
  removed: [processId: string];
}

/** Adds figures to `list_processes` totals (the claude domain sums `total_cost_usd`). */
export type TotalsContributor = (records: readonly ProcessRecord[], totals: Record<string, number>) => void;

/** See the file comment; one per daemon. */
export class ProcessSupervisor extends EventEmitter<SupervisorEvents> {
  private readonly entries = new Map<string, Entry>();
  private readonly queue: Entry[] = [];
  private readonly watched = new Set<Entry>();
  private readonly planners: KillPlanner[] = [];
  private readonly totalsContributors: TotalsContributor[] = [];
  private running = 0;
  private seq = 0;
  private poll: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(private readonly opts: SupervisorOptions) {
    super();
  }

  /** Starts a command (or queues it); resolves with its record once the record is on disk. */
  async spawn(spec: SpawnSpec): Promise<ProcessRecord> {
    if (this.stopping) throw new CommandError('SHUTTING_DOWN', 'the daemon is shutting down; start it again and retry');
    const id = spec.process_id ?? this.newId();
    if (this.entries.has(id)) throw new CommandError('PROCESS_EXISTS', `a process with id ${JSON.stringify(id)} already exists; choose another process_id or remove_process it first`);
    const now = new Date().toISOString();
    const stored: StoredProcess = {
      version: 1,
      record: {
        process_id: id, pid: null, status: 'queued', cmd: spec.cmd, cwd: path.resolve(spec.cwd ?? process.cwd()), name: spec.name ?? null,
        exit_code: null, signal: null, created_at: now, started_at: null, ended_at: null, duration_ms: null,
        stdout_bytes: 0, stderr_bytes: 0, timeout_s: spec.timeout_s ?? null, reason: null,
        ...(spec.claude !== undefined ? { claude: spec.claude } : {}),
      },
      seq: ++this.seq, env: spec.env ?? null, has_stdin: spec.stdin !== undefined,
      wrapper_pid: null, wrapper_start: null, pid_start: null,
    };
    const e = new Entry(stored, new ProcessDir(path.join(this.opts.root, id)));
    this.entries.set(id, e);
    try {
      await fs.promises.mkdir(e.pd.dir, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
      if (spec.stdin !== undefined) await fs.promises.writeFile(e.pd.stdin, spec.stdin, { mode: 0o600 });
    } catch (err) {
      this.entries.delete(id);
      throw err;
    }
    if (this.running >= this.opts.maxRunning) {
      this.queue.push(e);
      await this.persist(e);
      return e.record;
    }
    await this.start(e);
    return e.record;
  }

  /** The record of `id`, or PROCESS_NOT_FOUND. */
  get(id: string): ProcessRecord {
    return this.view(this.entry(id));
  }

  /** The record of `id`, or undefined. */
  find(id: string): ProcessRecord | undefined {
    const e = this.entries.get(id);
    return e && this.view(e);
  }

  /** Where a process's captured stream lives (it may not exist yet while queued). */
  outputPath(id: string, stream: 'stdout' | 'stderr'): string {
    return this.entry(id).pd.output(stream);
  }

  /** Records (optionally of one status) and counts by status over all records. */
  list(status?: ProcessStatus): ListProcessesResult {
    const all: ProcessRecord[] = [];
    const totals: Record<string, number> = { queued: 0, running: 0, exited: 0, killed: 0, failed: 0, lost: 0 };
    for (const e of this.entries.values()) {
      const r = this.view(e);
      all.push(r);
      totals[r.status] = (totals[r.status] ?? 0) + 1;
    }
    for (const c of this.totalsContributors) c(all, totals);
    return { processes: status === undefined ? all : all.filter((r) => r.status === status), totals };
  }

  /**
   * Ends a process with a tree kill. With `req.signal`: that signal, SIGKILL after `grace_s`.
   * Without: the first registered KillPlanner that claims the process decides (claude runs get
   * SIGINT first), else SIGTERM then SIGKILL. Resolves with the record once the process ended (or
   * the ladder ran out). Ended processes are returned as they are; queued ones are dropped.
   */
  async kill(id: string, req: KillRequest = {}): Promise<ProcessRecord> {
    const e = this.entry(id);
    if (e.starting) await e.starting;
    if (e.ended) return this.view(e);
    if (e.record.status === 'queued') {
      this.queue.splice(this.queue.indexOf(e), 1);
      this.finish(e, { status: 'killed', exit_code: null, signal: null, ended_at_ms: Date.now(), reason: req.reason ?? 'killed while queued (it never ran)' });
      return this.view(e);
    }
    let steps;
    for (const p of this.planners) if ((steps = p(e, req))) break;
    steps ??= defaultLadder(req);
    // Recorded (and persisted) now, so a daemon restart mid-kill still knows why it ended.
    e.record.reason ??= req.reason ?? `kill_process (${steps[0]?.signal ?? 'SIGTERM'})`;
    void this.persist(e);
    await runLadder(e, steps);
    return this.view(e);
  }

  /** Waits for the end of `id`, at most `timeoutS` seconds, or until `signal` aborts. */
  async wait(id: string, timeoutS?: number, signal?: AbortSignal): Promise<WaitResult> {
    const e = this.entry(id);
    const done = await e.waitEnd(timeoutS === undefined ? Infinity : timeoutS * 1000, signal);
    return done ? this.view(e) : { ...this.view(e), timed_out: true };
  }

  /** Forgets an ended process and deletes its directory; PROCESS_RUNNING while it may still run. */
  async remove(id: string): Promise<RemoveProcessResult> {
    const e = this.entry(id);
    if (!e.ended) throw new CommandError('PROCESS_RUNNING', `process ${id} is ${e.record.status}; kill_process or wait_process it first`);
    await e.writing;
    await fs.promises.rm(e.pd.dir, { recursive: true, force: true });
    // Only now: until its directory is gone, the id stays taken (a new spawn must not reuse it).
    this.entries.delete(id);
    this.emit('removed', id);
    return { removed: true, process_id: id };
  }

  /**
   * The claude observer's hook: replaces the record's `claude` object and persists it soon (writes
   * coalesce, so calling this for every stream event is fine). Unknown ids are ignored.
   */
  updateClaude(id: string, claude: Record<string, unknown>): void {
    const e = this.entries.get(id);
    if (e === undefined) return;
    e.record.claude = claude;
    void this.persist(e);
  }

  /** Registers a kill planner; earlier registrations are asked first. */
  addKillPlanner(planner: KillPlanner): void {
    this.planners.push(planner);
  }

  /** Registers a contributor to `list_processes` totals. */
  addTotals(contributor: TotalsContributor): void {
    this.totalsContributors.push(contributor);
  }

  /** Number of waits pending on `id` (for leak tests and diagnostics). */
  waiters(id: string): number {
    return this.entries.get(id)?.waiterCount ?? 0;
  }

  /**
   * At daemon shutdown. By default children keep running (the next daemon re-adopts them) and
   * queued processes stay queued. With `killProcesses`, queued ones are dropped and running ones
   * killed (default ladder per process) before this resolves.
   */
  async stop(opts: ShutdownOptions): Promise<void> {
    this.stopping = true;
    for (const e of this.entries.values()) if (e.timeoutTimer) clearTimeout(e.timeoutTimer);
    if (opts.killProcesses) {
      const reason = 'daemon shutdown with kill_processes';
      await Promise.all([...this.entries.values()].filter((e) => !e.ended).map((e) => this.kill(e.record.process_id, { reason }).catch(() => undefined)));
    }
    // Only now: the kills above rely on polling to see re-adopted processes end.
    if (this.poll !== undefined) clearInterval(this.poll);
    this.poll = undefined;
    await Promise.all([...this.entries.values()].map((e) => e.writing));
  }

  /** Restores a stored process at daemon start: re-adopts, recovers its outcome, or requeues it. */
  async restore(stored: StoredProcess): Promise<void> {
    const e = new Entry(stored, new ProcessDir(path.join(this.opts.root, stored.record.process_id)));
    this.entries.set(stored.record.process_id, e);
    this.seq = Math.max(this.seq, stored.seq);
    if (stored.record.status === 'queued') {
      this.queue.push(e);
      return;
    }
    if (stored.record.status !== 'running') return;
    this.running++;
    if (stored.record.pid === null) {
      // The daemon died mid-launch: the wrapper may have started the command all the same.
      let st = await readStarted(e.pd);
      if (st === undefined && wrapperFor(e.pd.dir)) {
        for (let i = 0; i < 100 && st === undefined && wrapperFor(e.pd.dir); i++) {
          await new Promise((r) => setTimeout(r, 20));
          st = await readStarted(e.pd);
        }
      }
      if (st !== undefined) {
        stored.record.pid = st.pid;
        Object.assign(stored, { pid_start: st.pidStart, wrapper_pid: st.wrapperPid, wrapper_start: st.wrapperStart });
        void this.persist(e);
      } else {
        // It never ran (no wrapper, nothing recorded): back in the queue, in its original place.
        this.running--;
        stored.record.status = 'queued';
        stored.record.started_at = null;
        const at = this.queue.findIndex((q) => q.stored.seq > stored.seq);
        this.queue.splice(at < 0 ? this.queue.length : at, 0, e);
        void this.persist(e);
        return;
      }
    }
    if (stored.wrapper_pid !== null && stored.wrapper_start !== null && isAlive(stored.wrapper_pid, stored.wrapper_start)) {
      this.adopt(e, 'wrapper');
      return;
    }
    await this.wrapperGone(e);
  }

  /** Starts queued processes while there is room (after restore, and whenever one ends). */
  drainQueue(): void {
    while (!this.stopping && this.running < this.opts.maxRunning && this.queue.length > 0) {
      const e = this.queue.shift()!;
      this.start(e, true).catch((err: unknown) => {
        if (!(err instanceof CommandError)) this.opts.log.error(`starting queued process ${e.record.process_id}`, err);
      });
    }
  }

  /**
   * Launches `e`. Everything before the first await runs synchronously, so `starting` is set (and
   * the slot taken) the moment this is called. A queued process is persisted as `running` (pid
   * null) before its launch, so a daemon dying mid-launch never starts it twice.
   */
  private async start(e: Entry, fromQueue = false): Promise<void> {
    const rec = e.record;
    this.running++;
    rec.status = 'running';
    rec.started_at = new Date().toISOString();
    let done!: () => void;
    e.starting = new Promise((r) => (done = r));
    try {
      if (fromQueue) await this.persist(e);
      if (this.opts.wrapper === undefined) throw new LaunchError('the process wrapper claude-daemon-wrap is missing; rebuild with `node scripts/build.mjs` (needs a C compiler)');
      const env = e.stored.env === null ? process.env : { ...process.env, ...e.stored.env };
      const l = await launch({ wrapper: this.opts.wrapper, dir: e.pd.dir, cmd: rec.cmd, cwd: rec.cwd, env, hasStdin: e.stored.has_stdin });
      rec.pid = l.pid;
      Object.assign(e.stored, { wrapper_pid: l.wrapperPid, wrapper_start: l.wrapperStart, pid_start: l.pidStart });
      e.child = l.child;
      l.exited.then(() => this.wrapperGone(e)).catch((err: unknown) => this.opts.log.error('after a wrapper exit', err));
      await this.persist(e);
      this.armTimeout(e);
      this.emit('spawned', this.view(e), { adopted: false, stdoutPath: e.pd.output('stdout'), stderrPath: e.pd.output('stderr') });
    } catch (err) {
      if (!(err instanceof LaunchError)) throw err;
      this.finish(e, { status: 'failed', exit_code: null, signal: null, ended_at_ms: Date.now(), reason: err.message });
      await e.writing;
      throw new CommandError('SPAWN_FAILED', `cannot start ${JSON.stringify(rec.cmd[0])}: ${err.message}; the record stays with status failed`);
    } finally {
      e.starting = undefined;
      done();
    }
  }

  private adopt(e: Entry, mode: WatchMode): void {
    e.watch = mode;
    this.watched.add(e);
    this.armTimeout(e);
    this.poll ??= setInterval(() => this.pollWatched(), this.opts.pollMs ?? 100).unref();
    this.emit('spawned', this.view(e), { adopted: true, stdoutPath: e.pd.output('stdout'), stderrPath: e.pd.output('stderr') });
  }

  private pollWatched(): void {
    for (const e of this.watched) {
      const s = e.stored;
      const alive = e.watch === 'wrapper' ? isAlive(s.wrapper_pid!, s.wrapper_start!) : s.record.pid !== null && isAlive(s.record.pid, s.pid_start!);
      if (alive) continue;
      this.watched.delete(e);
      void this.wrapperGone(e, e.watch === 'cmd');
    }
    if (this.watched.size === 0 && this.poll !== undefined) {
      clearInterval(this.poll);
      this.poll = undefined;
    }
  }

  /** The wrapper is gone: read what it recorded; else keep watching the command, else `lost`. */
  private async wrapperGone(e: Entry, cmdGone = false): Promise<void> {
    e.child = undefined;
    if (e.ended) return;
    const ex = await readExit(e.pd);
    if (ex !== undefined) {
      this.finish(e, outcome(ex));
      return;
    }
    const s = e.stored;
    if (!cmdGone && s.record.pid !== null && s.pid_start !== null && isAlive(s.record.pid, s.pid_start)) {
      this.opts.log.warn(`process ${s.record.process_id}: its wrapper died; watching the command itself (its outcome will be unknown)`);
      this.adopt(e, 'cmd');
      return;
    }
    const reason = s.record.pid === null
      ? 'the daemon stopped while starting it; no outcome was recorded'
      : 'it ended while unwatched and its wrapper recorded no outcome (the wrapper was killed?)';
    this.finish(e, { status: 'lost', exit_code: null, signal: null, ended_at_ms: Date.now(), reason });
  }

  private finish(e: Entry, o: Outcome): void {
    if (e.ended) return;
    const rec = e.record;
    if (rec.status === 'running') this.running--;
    this.watched.delete(e);
    if (e.timeoutTimer) clearTimeout(e.timeoutTimer);
    rec.status = o.status;
    rec.exit_code = o.exit_code;
    rec.signal = o.signal;
    rec.ended_at = new Date(o.ended_at_ms).toISOString();
    rec.duration_ms = rec.started_at === null ? null : Math.max(0, o.ended_at_ms - Date.parse(rec.started_at));
    rec.reason = o.reason ?? rec.reason;
    rec.stdout_bytes = sizeOf(e.pd.output('stdout'));
    rec.stderr_bytes = sizeOf(e.pd.output('stderr'));
    void this.persist(e);
    e.notifyEnded();
    this.emit('ended', rec);
    this.drainQueue();
  }

  private armTimeout(e: Entry): void {
    const t = e.record.timeout_s;
    if (t === null || e.record.started_at === null || this.stopping) return;
    const left = Date.parse(e.record.started_at) + t * 1000 - Date.now();
    e.timeoutTimer = setTimeout(() => {
      void this.kill(e.record.process_id, { reason: `timeout_s (${t} s) reached` }).catch(() => undefined);
    }, Math.max(0, left)).unref();
  }

  /** Queues one atomic write of the latest state; writes never overlap and coalesce while queued. */
  private persist(e: Entry): Promise<void> {
    if (e.queuedWrite) return e.queuedWrite;
    const p = (e.writing ?? Promise.resolve())
      .then(() => {
        e.queuedWrite = undefined;
        if (this.entries.get(e.record.process_id) !== e) return undefined;
        return writeStored(e.pd, e.stored);
      })
      .catch((err: unknown) => this.opts.log.error(`persisting process ${e.record.process_id}`, err));
    e.queuedWrite = p;
    e.writing = p;
    return p;
  }

  /** The record with live figures (sizes, duration) filled in for a running process. */
  private view(e: Entry): ProcessRecord {
    const rec = e.record;
    if (rec.status !== 'running' || rec.started_at === null) return rec;
    rec.stdout_bytes = sizeOf(e.pd.output('stdout'));
    rec.stderr_bytes = sizeOf(e.pd.output('stderr'));
    rec.duration_ms = Date.now() - Date.parse(rec.started_at);
    return rec;
  }

  private entry(id: string): Entry {
    const e = this.entries.get(id);
    if (e === undefined) throw new CommandError('PROCESS_NOT_FOUND', `no process with id ${JSON.stringify(id)}; list_processes shows the known ones`);
    return e;
  }

  private newId(): string {
    for (;;) {
      const id = `p-${randomBytes(4).toString('hex')}`;
      if (!this.entries.has(id)) return id;
    }
  }
}

interface Outcome {
  status: ProcessStatus;
  exit_code: number | null;
  signal: string | null;
  ended_at_ms: number;
  reason?: string;
}

function outcome(ex: ExitFile): Outcome {
  if (ex.signal !== null) return { status: 'killed', exit_code: null, signal: signalName(ex.signal), ended_at_ms: ex.ended_at_ms };
  if (ex.exit_code !== null) return { status: 'exited', exit_code: ex.exit_code, signal: null, ended_at_ms: ex.ended_at_ms };
  return { status: 'lost', exit_code: null, signal: null, ended_at_ms: ex.ended_at_ms, reason: 'the wrapper could not collect the exit status' };
}
