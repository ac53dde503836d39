/**
 * The process supervisor: spawns commands through the native wrapper, queues them beyond
 * `maxRunning`, ends them with a tree kill, answers waits, and persists every record before it is
 * acknowledged. Other domains build on it through documented hooks: `spawn(spec)`, the `spawned`
 * and `ended` events, `updateClaude`, `addKillPlanner` and `addTotals`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { attemptFileSuffix, type CleanResult, type ListProcessesResult, type ProcessRecord, type ProcessStatus, type RemoveProcessResult, type SpawnResult, type WaitResult } from '../../protocol/schemas/processes.js';
import { CommandError } from '../command-error.js';
import { ioCommandError } from '../io-error.js';
import { randomHex } from '../lazy-crypto.js';
import type { ShutdownOptions } from '../services.js';
import { Entry, type SlimRestorer } from './entry.js';
import { roundUsd } from '../scheduler/index.js';
import { defaultLadder, runLadder, runTreeLadder, type KillPlanner, type KillRequest } from './kill.js';
import { DEFAULT_DESCENDANTS_GRACE_S, Lifecycle, type StartHook } from './lifecycle.js';
import { foreignDirReason } from '../state/files.js';
import { killCgroup, releaseCgroup, type PidsLimit } from './pids-limit.js';
import { isAlive, readStat } from './proc.js';
import type { TotalsContributor } from './record-index.js';
import { ProcessDir, trashDir, type StoredProcess } from './store.js';
import { retrySettings } from '../scheduler/retry.js';
import { DEFAULT_GROUP, type GroupInfo, type GroupListResult } from '../../protocol/schemas/scheduling.js';

export type { SupervisorEvents, SupervisorOptions } from './lifecycle.js';

/** What a spawn asks for; `spawn_process`'s parameters, plus an initial `claude` object. */
export interface SpawnSpec {
  cmd: string[];
  process_id?: string | undefined;
  cwd?: string | undefined;
  env?: Record<string, string> | undefined;
  stdin?: string | undefined;
  /** A live session: stdin is a FIFO in the process directory, held open by the wrapper (wrap.c "f"). */
  stdinFifo?: boolean | undefined;
  timeout_s?: number | undefined;
  name?: string | undefined;
  /** Seconds the command's leftovers may outlive it (default 5); see wrap.c's linger. */
  descendants_grace_s?: number | undefined;
  /** Keep the command's leftovers until they end, or kill_process / remove_process ends them. */
  keep_descendants?: boolean | undefined;
  /** Stored with the record from the start (the claude observer's object). */
  claude?: Record<string, unknown> | undefined;
  /** Lineage (lineage.ts): the process this one was spawned on behalf of; null or absent for none. */
  parent?: string | null | undefined;
  /** A spawn with a key a record already holds returns that record instead (duplicateOf). */
  idempotency_key?: string | undefined;
  /** Scheduling (src/daemon/scheduler): group, priority, dependencies, start time. */
  group?: string | undefined;
  priority?: number | undefined;
  after?: string[] | undefined;
  after_condition?: 'success' | 'ended' | undefined;
  start_after_s?: number | undefined;
  start_at?: string | undefined;
  /** Usage limits (claude runs): starts despite the usage hold; the prompt of a resumption. */
  ignore_hold?: boolean | undefined;
  limit_resume_prompt?: string | undefined;
  /** Retries of failed attempts (scheduler/retry.ts). */
  retry?: Parameters<typeof retrySettings>[0] | undefined;
}

export type { TotalsContributor } from './record-index.js';

/**
 * Cuts bulky parts of a settled ended record in memory, parts that record.json holds (the claude
 * domain cuts a long `result`); returns how to put them back, or undefined when it cut nothing.
 * Replies to a slim record read record.json back, so they stay exactly the same; the in-memory one
 * must keep whatever the daemon itself reads (status, costs, group...).
 */
export type RecordSlimmer = (rec: ProcessRecord) => SlimRestorer | undefined;

/** The restorer of a record cut of nothing but its stored environment (put back by unslim itself). */
const keepRecord: SlimRestorer = () => undefined;

/** See the file comment; one per daemon. */
export class ProcessSupervisor extends Lifecycle {
  private readonly planners: KillPlanner[] = [];
  private readonly slimmers: RecordSlimmer[] = [];
  /** Removals the retention limits started, not yet finished. */
  private readonly expiring = new Set<Promise<void>>();

  private readonly inflight = new Map<string, Promise<unknown>>();

  /**
   * Starts a command (or queues it); resolves with its record once the record is on disk. With an
   * `idempotency_key` a record already holds: that record, `deduplicated`, and nothing starts.
   */
  spawn(spec: SpawnSpec): Promise<SpawnResult> {
    const dup = this.duplicateOf(spec.idempotency_key, () => this.spawn(spec));
    if (dup !== undefined) return dup;
    const p = this.spawnNew(spec);
    // Registered synchronously (spawnNew indexes the key before its first await): a duplicate that
    // arrives while this one is still being written waits for it (see duplicateOf).
    const id = this.lineage.holder(spec.idempotency_key);
    if (id !== undefined) {
      this.inflight.set(id, p);
      const done = (): void => void (this.inflight.get(id) === p && this.inflight.delete(id));
      p.then(done, done);
    }
    return p;
  }

  /**
   * When a record holds `key`: its record (flagged `deduplicated`) once its own spawn has been
   * acknowledged; if that spawn was refused after all (nothing kept), `retry()` spawns anew. Decided
   * synchronously, so duplicates pipelined or sent from many connections at once make one record.
   */
  duplicateOf(key: string | undefined, retry: () => Promise<SpawnResult>): Promise<SpawnResult> | undefined {
    const id = this.lineage.holder(key);
    if (id === undefined) return undefined;
    const pending = this.inflight.get(id);
    const settle = async (): Promise<SpawnResult> => {
      await pending?.catch(() => undefined);
      // The index, not the record, says who holds the key (a compacted record need not keep it).
      const e = this.lineage.holder(key) === id ? this.entries.get(id) : undefined;
      if (e === undefined) return retry();
      return { ...this.reply(e), deduplicated: true };
    };
    return settle();
  }

  private async spawnNew(spec: SpawnSpec): Promise<ProcessRecord> {
    if (this.stopping) throw new CommandError('SHUTTING_DOWN', 'the daemon is shutting down; start it again and retry');
    const id = spec.process_id ?? this.newId();
    // Hooks are called by other domains too: the id names a directory, so check it here as well.
    if (!isSafeId(id)) throw new CommandError('INVALID_PARAMS', `process_id ${JSON.stringify(id)} must be 1-64 characters of A-Z a-z 0-9 . _ - and not "." or ".."`);
    if (this.entries.has(id)) throw new CommandError('PROCESS_EXISTS', `a process with id ${JSON.stringify(id)} already exists; choose another process_id or remove_process it first`);
    refuseForeignDir(path.join(this.opts.root, id));
    this.sched.checkAfter(spec.after);
    const now = new Date().toISOString();
    const stored: StoredProcess = {
      version: 1,
      record: {
        process_id: id, pid: null, status: 'queued', cmd: spec.cmd, cwd: path.resolve(spec.cwd ?? process.cwd()), name: spec.name ?? null,
        exit_code: null, signal: null, created_at: now, started_at: null, ended_at: null, duration_ms: null,
        stdout_bytes: 0, stderr_bytes: 0, timeout_s: spec.timeout_s ?? null, reason: null,
        descendants_grace_s: spec.keep_descendants === true ? null : spec.descendants_grace_s ?? DEFAULT_DESCENDANTS_GRACE_S, descendants: null,
        ...(spec.claude !== undefined ? { claude: spec.claude } : {}),
        parent: spec.parent ?? null, idempotency_key: spec.idempotency_key ?? null,
        ...scheduleFields(spec),
        ...(spec.ignore_hold === true ? { ignore_hold: true } : {}),
        ...(spec.limit_resume_prompt !== undefined ? { limit_resume_prompt: spec.limit_resume_prompt } : {}),
      },
      seq: ++this.seq, env: spec.env ?? null, has_stdin: spec.stdin !== undefined, ...(spec.stdinFifo === true ? { stdin_fifo: true } : {}),
      wrapper_pid: null, wrapper_start: null, pid_start: null,
    };
    const e = new Entry(stored, new ProcessDir(this.opts.root, id));
    this.entries.set(id, e);
    this.lineage.add(e.record);
    if (spec.stdin !== undefined) {
      // Otherwise the wrapper creates the directory itself, sparing the daemon a round trip.
      try {
        await fs.promises.mkdir(e.pd.dir, { mode: 0o700, recursive: true });
        await fs.promises.writeFile(e.pd.stdin, spec.stdin, { mode: 0o600 });
      } catch (err) {
        this.entries.delete(id);
        await fs.promises.rm(e.pd.dir, { recursive: true, force: true }).catch(() => undefined);
        throw ioCommandError(err, `cannot write the stdin of process ${id}`, 'nothing was started or kept') ?? err;
      }
    }
    this.emit('created', e.record);
    if (!this.sched.startsNow(e)) {
      // Acknowledged only once its record is on disk: a queued spawn the disk refuses is refused.
      try {
        fs.mkdirSync(e.pd.dir, { mode: 0o700, recursive: true });
        this.writer.writeOrThrow(e);
      } catch (err) {
        this.entries.delete(id);
        fs.rmSync(e.pd.dir, { recursive: true, force: true });
        throw ioCommandError(err, `cannot write the record of queued process ${id}`, 'nothing was queued or kept') ?? err;
      }
      this.sched.add(e); // may end it `skipped` at once (a dependency failed already)
      this.drainQueue();
      return this.view(e);
    }
    this.beforeStart(e);
    await this.start(e);
    return e.record;
  }

  /** The record of `id`, or PROCESS_NOT_FOUND. */
  get(id: string): ProcessRecord {
    return this.reply(this.entry(id));
  }

  /** The record of `id`, or undefined. */
  find(id: string): ProcessRecord | undefined {
    const e = this.entries.get(id);
    return e && this.reply(e);
  }

  /**
   * Where a process's captured stream lives (it may not exist yet while queued). With `attempt`
   * (records with `retry`): that attempt's; earlier attempts' files were moved to `stdout.N`.
   */
  outputPath(id: string, stream: 'stdout' | 'stderr', attempt?: number): string {
    const e = this.entry(id);
    if (attempt === undefined) return e.pd.output(stream);
    const suffix = attemptFileSuffix(e.record, attempt);
    if (suffix !== undefined) return e.pd.output(stream) + suffix;
    const last = (e.record.attempts?.length ?? 0) + (e.ended ? 0 : 1);
    throw new CommandError('INVALID_PARAMS', `attempt ${attempt}: process ${id} has attempts 1 to ${Math.max(1, last)} so far; give one of them, or omit attempt for the latest`);
  }

  /**
   * Records (optionally of one status) oldest first, and counts by status over all records. With
   * `page`: at most `limit` records after `cursor` (a creation sequence number; new records always
   * come later, so paging visits every record that exists throughout exactly once), and
   * `next_cursor`.
   */
  list(status?: ProcessStatus, page?: { limit?: number | undefined; cursor?: string | undefined }, parent?: string): ListProcessesResult {
    // Reads only the list of `status` (or of all records), from the cursor on, up to `limit`; the
    // totals are kept up to date as records change (record-index.ts), so a filtered or paged list of
    // a 10,000-record queue costs what it returns.
    const after = page?.cursor === undefined ? -1 : Number(page.cursor);
    const keep = parent === undefined ? undefined : (e: Entry): boolean => e.record.parent === parent;
    const { entries, more } = this.entries.page(status, after, page?.limit ?? Infinity, keep);
    // Live figures (sizes, held reason) only for the records served.
    const out = entries.map((e) => (e.slim === undefined ? this.view(e) : e.replyRecord()));
    const result: ListProcessesResult = { processes: out, totals: this.entries.totals() };
    if (page !== undefined) result.next_cursor = more ? String(entries[entries.length - 1]?.seq ?? after) : null;
    return result;
  }

  /**
   * `clean`: removes ended records (never queued or running ones, nor one whose leftover processes
   * still run), optionally only those of the given statuses, group, or ended at least
   * `olderThanS` seconds ago. Resolves with the ids removed, oldest end first.
   */
  async clean(f: { status?: ProcessStatus[] | undefined; group?: string | undefined; older_than_s?: number | undefined }): Promise<CleanResult> {
    const cutoff = f.older_than_s === undefined ? Infinity : Date.now() - f.older_than_s * 1000;
    const ids: string[] = [];
    for (const [id, at] of this.endedIndex.entries()) {
      const e = this.entries.get(id);
      if (e === undefined || !e.ended || e.lingering || at > cutoff) continue;
      if (f.status !== undefined && !f.status.includes(e.record.status)) continue;
      if (f.group !== undefined && (e.record.group ?? 'default') !== f.group) continue;
      ids.push(id);
    }
    const removed = new Set<string>();
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < ids.length) {
        const id = ids[next++]!;
        // Removed meanwhile (remove_process, retention): not counted here.
        if (this.entries.has(id)) await this.remove(id).then(() => removed.add(id), () => undefined);
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, ids.length) }, lane));
    const processIds = ids.filter((id) => removed.has(id));
    return { removed: processIds.length, process_ids: processIds };
  }

  /**
   * Records held, how many have ended and been settled (settle.ts), and how many of those are slim
   * (bulky parts read back from disk) (`ping {stats}`; O(n), asked for rarely).
   */
  recordStats(): { total: number; settled: number; slim: number } {
    let settled = 0;
    let slim = 0;
    for (const e of this.entries.values()) {
      if (e.settled) settled++;
      if (e.slim !== undefined) slim++;
    }
    return { total: this.entries.size, settled, slim };
  }

  /** How many records the daemon holds (every status). */
  get recordCount(): number {
    return this.entries.size;
  }

  /** Settles every ended record that can be now (tests and benches; normally a second after each end). */
  settleNow(): void {
    this.settler.run();
  }

  protected expire(id: string): boolean {
    const e = this.entries.get(id);
    if (e === undefined) return true;
    if (!e.ended || e.lingering) return false;
    const p = this.remove(id).then(
      () => undefined,
      (err: unknown) => this.opts.log.warn(`retention: cannot remove process ${id}: ${(err as Error).message}`),
    );
    this.expiring.add(p);
    void p.finally(() => this.expiring.delete(p));
    return true;
  }

  /** Resolves once the removals the retention limits started have finished (at start). */
  async retentionSettled(): Promise<void> {
    while (this.expiring.size > 0) await Promise.all([...this.expiring]);
  }

  protected settle(e: Entry): 'done' | 'later' | 'never' {
    if (this.entries.get(e.id) !== e || e.discarded || e.settled || !e.ended || e.lingering) return 'never';
    if (e.dirty || e.starting !== undefined || this.writer.has(e)) return 'later';
    // A kill's survivor sweep (kill.ts) may still hold live pids; the table goes once they are gone.
    e.releaseSignalled((pid, start) => readStat(pid)?.start !== start);
    for (const s of this.slimmers) {
      const restore = s(e.record);
      if (restore !== undefined) {
        e.slim = restore;
        break;
      }
    }
    // The environment overrides only serve a start, which an ended record never has again; a write
    // puts them back from record.json first (entry.ts unslim).
    if (e.stored.env !== null) {
      e.stored.env = null;
      e.slim ??= keepRecord;
    }
    e.settled = true;
    return 'done';
  }

  /**
   * Ends a process with a tree kill. With `req.signal`: that signal, SIGKILL after `grace_s`.
   * Without: the first registered KillPlanner that claims the process decides (claude runs get
   * SIGINT first), else SIGTERM then SIGKILL. Resolves with the record once the process ended (or
   * the ladder ran out). Ended processes are returned as they are; queued ones are dropped.
   */
  kill(id: string, req: KillRequest = {}): Promise<ProcessRecord> {
    return this.killEntry(this.entry(id), req);
  }

  /**
   * Ends many processes at once (`kill_process` with `process_ids`), each as kill() would. Every id
   * is looked up first: an unknown one refuses the whole request before anything is signalled. Then
   * each ladder starts in one synchronous loop (killEntry sends its first signal before its first
   * await), so every first signal is out before any end is handled or any reply written. Resolves
   * with the records in the order given, each id once.
   */
  killMany(ids: readonly string[], req: KillRequest = {}): Promise<ProcessRecord[]> {
    const entries = [...new Set(ids)].map((id) => this.entry(id));
    return Promise.all(entries.map((e) => this.killEntry(e, req)));
  }

  protected async killEntry(e: Entry, req: KillRequest): Promise<ProcessRecord> {
    if (e.starting) await e.starting;
    if (e.ended) {
      // The command has ended; what it left behind (if anything) gets the ladder now.
      if (e.lingering) await runTreeLadder(e, defaultLadder(req));
      return this.reply(e);
    }
    if (e.record.status === 'queued') {
      this.sched.remove(e);
      this.emit('kill', e.record, { reason: req.reason ?? 'killed while queued (it never ran)', signal: req.signal });
      delete e.record.retry_at; // queued for a retry: the next attempt will not come
      this.finish(e, { status: 'killed', exit_code: null, signal: null, ended_at_ms: Date.now(), reason: req.reason ?? 'killed while queued (it never ran)' });
      return this.view(e);
    }
    let steps;
    for (const p of this.planners) if ((steps = p(e, req))) break;
    steps ??= defaultLadder(req);
    e.record.reason ??= req.reason ?? `kill_process (${steps[0]?.signal ?? 'SIGTERM'})`;
    this.emit('kill', e.record, { reason: req.reason ?? e.record.reason, signal: steps[0]?.signal });
    // Persisted within 100 ms, not now: most processes end sooner, and their end writes the whole
    // record once (finish); 100 kills at once must not wait on 100 file writes before their signals.
    // A daemon crash in between loses only the reason text (the outcome is in the exit file).
    this.persistSoon(e);
    await runLadder(e, steps);
    return this.view(e);
  }

  /** Waits for the end of `id`, at most `timeoutS` seconds, or until `signal` aborts. */
  async wait(id: string, timeoutS?: number, signal?: AbortSignal): Promise<WaitResult> {
    const e = this.entry(id);
    const done = await e.waitEnd(timeoutS === undefined ? Infinity : timeoutS * 1000, signal);
    return done ? this.reply(e) : { ...this.view(e), timed_out: true };
  }

  /** Forgets an ended process and deletes its directory; PROCESS_RUNNING while it may still run. */
  async remove(id: string): Promise<RemoveProcessResult> {
    const e = this.entry(id);
    if (!e.ended) throw new CommandError('PROCESS_RUNNING', `process ${id} is ${e.record.status}; kill_process or wait_process it first`);
    // No process of a removed record survives it: leftovers get SIGTERM, SIGKILL 2 s later; then
    // anything still in its pids cgroup (the wrapper was killed and they went to pid 1) is killed.
    if (e.lingering) await runTreeLadder(e, defaultLadder({ grace_s: 2 }));
    await killCgroup(this.opts.pidsLimit, id);
    this.dropPending(e);
    // Its spend moves to the group's persisted spent_removed_usd first: a daemon killed between the
    // two counts it twice (never zero times); a failed removal puts it back.
    const undoSpend = this.budget.forget(e.record);
    // Moved aside first (atomic), so a daemon killed mid-removal never leaves half a directory.
    const trash = path.join(trashDir(this.opts.root), `${id}.${randomHex(4)}`);
    try {
      await fs.promises.rename(e.pd.dir, trash);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        undoSpend();
        throw err;
      }
      await fs.promises.mkdir(trashDir(this.opts.root), { recursive: true, mode: 0o700 });
      await fs.promises.rename(e.pd.dir, trash).catch((err2: NodeJS.ErrnoException) => {
        if (err2.code !== 'ENOENT') {
          undoSpend();
          throw err2;
        }
      });
    }
    releaseCgroup(this.opts.pidsLimit, id);
    // Only now: until its directory is gone, the id stays taken (a new spawn must not reuse it).
    this.entries.delete(id);
    this.endedIndex.delete(id);
    this.settler.drop(e);
    this.sched.forget(e.record); // a later `after` naming it counts its final status
    // Retries: a wrapper still retrying its exit file (disk was full) may add a file meanwhile.
    await fs.promises.rm(trash, { recursive: true, force: true, maxRetries: 5 });
    this.emit('removed', id);
    return { removed: true, process_id: id };
  }

  /** The FIFO a live session reads (DIR/stdin). */
  stdinPath(id: string): string {
    return this.entry(id).pd.stdin;
  }

  /**
   * Sends `sig` to the wrapper of running process `id` (verified by its start time, so a reused
   * pid is never hit); false when it is not running. Live sessions use SIGUSR1: the wrapper drops
   * its write end of the input FIFO (wrap.c mode "f").
   */
  signalWrapper(id: string, sig: NodeJS.Signals): boolean {
    const s = this.entries.get(id)?.stored;
    if (s === undefined || s.wrapper_pid === null || s.wrapper_start === null || !isAlive(s.wrapper_pid, s.wrapper_start)) return false;
    try {
      process.kill(s.wrapper_pid, sig);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The claude observer's hook: replaces the record's `claude` object and persists it soon (writes
   * coalesce, so calling this for every stream event is fine). Unknown ids are ignored.
   */
  updateClaude(id: string, claude: Record<string, unknown>): void {
    const e = this.entries.get(id);
    if (e === undefined) return;
    e.unslim();
    e.record.claude = claude;
    this.entries.changed(e);
    this.budget.note(e.record);
    this.persistSoon(e);
    this.emit('claude', id, claude);
  }

  /** `group_set`: changes a group's settings (written before this returns), then starts what fits. */
  setGroup(group: string, change: { parallel?: number | undefined; paused?: boolean | undefined; budget_usd?: number | null | undefined }): GroupInfo {
    const c: { parallel?: number; paused?: boolean; budget_usd?: number | null } = {};
    if (change.parallel !== undefined) c.parallel = change.parallel;
    if (change.paused !== undefined) c.paused = change.paused;
    if (change.budget_usd !== undefined) c.budget_usd = change.budget_usd;
    this.sched.settings.set(group, c);
    // A budget raised or cleared may release runs it held (unpark wakes the queue).
    if (change.budget_usd !== undefined) this.sched.unpark();
    this.drainQueue();
    return this.groupInfo(group);
  }

  /** `group_list`: every group's settings and figures. */
  listGroups(): GroupListResult {
    return { groups: this.sched.groupNames().map((g) => this.groupInfo(g)) };
  }

  private groupInfo(group: string): GroupInfo {
    const s = this.sched.settings.get(group);
    const { parked, ...f } = this.sched.groupFigures(group);
    const readyWaiting = f.queued - f.waiting > 0;
    const held = s.paused || readyWaiting ? (parked > 0 ? this.budget.groupHeld(group) : null) ?? this.sched.groupHeld(group) : null;
    return { group, parallel: s.parallel, paused: s.paused, ...f, held, budget_usd: s.budget_usd, spent_usd: roundUsd(this.budget.spent(group)) };
  }

  /** Registers a start hook (lifecycle.ts StartHook); the claude domain caps `--max-budget-usd` with one. */
  addStartHook(hook: StartHook): void {
    this.startHooks.push(hook);
  }

  /** Registers a kill planner; earlier registrations are asked first. */
  addKillPlanner(planner: KillPlanner): void {
    this.planners.push(planner);
  }

  /** Registers a slimmer for settled ended records (only one cuts a given record: the first that does). */
  addSlimmer(slimmer: RecordSlimmer): void {
    this.slimmers.push(slimmer);
  }

  /** Registers a contributor to `list_processes` totals. */
  addTotals(contributor: TotalsContributor): void {
    this.entries.addContributor(contributor);
  }

  /** The per-process limit on processes/threads that applies to children (reported by `ping`). */
  get pidsLimit(): PidsLimit {
    return this.opts.pidsLimit;
  }

  /** True while an ended process's wrapper still keeps descendants it left (for tests and diagnostics). */
  lingering(id: string): boolean {
    return this.entries.get(id)?.lingering ?? false;
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
    this.sched.stop();
    for (const e of this.entries.values()) if (e.timeoutTimer) clearTimeout(e.timeoutTimer);
    if (opts.killProcesses) {
      const reason = 'daemon shutdown with kill_processes';
      await Promise.all([...this.entries.values()].filter((e) => !e.ended || e.lingering).map((e) => this.kill(e.record.process_id, { reason }).catch(() => undefined)));
    }
    // Only now: the kills above rely on polling to see re-adopted processes end.
    if (this.poll !== undefined) clearInterval(this.poll);
    this.poll = undefined;
    this.flushDirty();
    // A last attempt at records the disk refused; what still fails is logged (the previous version stays).
    this.writer.retry();
    this.writer.stop();
    this.endedIndex.stop();
    this.settler.stop();
  }

  /** At start, once every record is restored: indexes the ended ones and applies the retention limits. */
  indexEnded(): void {
    const ended: { id: string; endedMs: number }[] = [];
    for (const e of this.entries.values()) {
      if (!e.ended) continue;
      const at = Date.parse(e.record.ended_at ?? '');
      ended.push({ id: e.id, endedMs: Number.isNaN(at) ? Date.now() : at });
    }
    this.endedIndex.reset(ended);
  }
}

/** The scheduler's record fields for a spawn (only those given, besides group and priority). */
function scheduleFields(spec: SpawnSpec): Partial<ProcessRecord> {
  const f: Partial<ProcessRecord> = { group: spec.group ?? DEFAULT_GROUP, priority: spec.priority ?? 0 };
  if (spec.after !== undefined && spec.after.length > 0) {
    f.after = [...new Set(spec.after)];
    f.after_condition = spec.after_condition ?? 'success';
  }
  // A delay becomes an absolute time now, so a restarted daemon keeps the same start time.
  if (spec.start_after_s !== undefined) f.start_at = new Date(Date.now() + spec.start_after_s * 1000).toISOString();
  else if (spec.start_at !== undefined) f.start_at = new Date(Date.parse(spec.start_at)).toISOString();
  if (spec.retry !== undefined) f.retry = retrySettings(spec.retry);
  return f;
}

/**
 * An unknown id whose directory exists all the same (planted, or left by hand) is used only if it is
 * a real directory of ours: output and the record's environment never go where someone else can read.
 */
function refuseForeignDir(dir: string): void {
  const st = fs.lstatSync(dir, { throwIfNoEntry: false });
  const why = st && foreignDirReason(st);
  if (why) throw new CommandError('PROCESS_EXISTS', `${dir} already exists and ${why}; the daemon will not use it. Remove it, or choose another process_id`);
}

/** True for an id that is safe as one path component (the protocol's ProcessId rule). */
export function isSafeId(id: string): boolean {
  return /^[A-Za-z0-9._-]{1,64}$/.test(id) && id !== '.' && id !== '..';
}
