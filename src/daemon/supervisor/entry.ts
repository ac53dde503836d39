/**
 * The supervisor's in-memory view of one process: its stored record plus what only a live daemon
 * has (timers, waiters, how it is watched). Waiters live in a Set and remove themselves on
 * timeout or abort, so thousands of short waits on a long-running process leave nothing behind.
 */
import { ENDED_STATUSES, type ProcessRecord } from '../../protocol/schemas/processes.js';
import { readStoredText, type ProcessDir, type StoredProcess } from './store.js';

/** How an adopted process is watched: through its wrapper, or (wrapper gone) the command itself. */
export type WatchMode = 'wrapper' | 'cmd';

/**
 * Puts back, from the record as it is on disk, what a RecordSlimmer cut from the in-memory one
 * (supervisor.ts). One shared function per slimmer, not a closure per record.
 */
export type SlimRestorer = (rec: ProcessRecord, onDisk: ProcessRecord) => void;

/** One process known to the supervisor. */
export class Entry {
  /** Set while the command is being launched; kill and remove wait for it. */
  starting: Promise<void> | undefined;
  timeoutTimer: NodeJS.Timeout | undefined;
  watch: WatchMode | undefined;
  /**
   * A spawn refused after all (its record could not be written): ending it frees its slot and wakes
   * waiters, but nothing is persisted or announced, and the entry is then forgotten.
   */
  discarded = false;
  /** A coalesced write is pending (see Lifecycle.persistSoon). */
  dirty = false;
  /**
   * The command has ended but its wrapper lives on, keeping descendants that outlived it (wrap.c,
   * linger); cleared when the wrapper exits (the tree has ended).
   */
  lingering = false;
  /**
   * Retries: set while a failed attempt waits for its next one (status `queued`, scheduler/retry.ts);
   * `generation` counts launches, so late news of an earlier attempt's wrapper is told apart;
   * `wrapperLive` is set while a wrapper this daemon launched has not been reaped. The next attempt
   * is scheduled only once the failed attempt's wrapper is gone (`retryWaiting` until then): it
   * still removes the pids cgroup the next attempt's wrapper would join.
   */
  retryPending = false;
  retryWaiting = false;
  generation = 0;
  wrapperLive = false;
  /** The ended record has been settled (supervisor.ts `settle`): tables released, bulky parts cut. */
  settled = false;
  /**
   * Set while bulky parts of the ended record (a claude run's long result) are cut in memory: replies
   * read record.json back (replyRecord), and a write puts them back first (unslim).
   */
  slim: SlimRestorer | undefined;
  /*
   * The tables below are allocated when first used and dropped when empty: an ended record (most of
   * them, in a daemon that ran for a while) pays nothing for them (they were ~550 B per record).
   */
  private pids: Map<number, number> | undefined;
  private waiters: Set<() => void> | undefined;
  private treeWaiters: Set<() => void> | undefined;
  private attemptWaiters: Set<() => void> | undefined;

  constructor(
    readonly stored: StoredProcess,
    readonly pd: ProcessDir,
  ) {}

  /** The process id (fixed for life). */
  get id(): string {
    return this.stored.record.process_id;
  }

  /** Order of creation (fixed for life). */
  get seq(): number {
    return this.stored.seq;
  }

  /** The wire record (the same object; callers must not mutate it). */
  get record(): ProcessRecord {
    return this.stored.record;
  }

  /** True once the process can never run again. */
  get ended(): boolean {
    return ENDED_STATUSES.has(this.stored.record.status);
  }

  /**
   * Every process signalled so far (pid -> start time): a later step of the ladder signals the
   * survivors again even if they were reparented out of the tree in between. Allocated on first use.
   */
  get signalled(): Map<number, number> {
    return (this.pids ??= new Map());
  }

  /** Drops the signalled table when none of its processes lives on (`gone(pid, start)` says). */
  releaseSignalled(gone: (pid: number, start: number) => boolean): void {
    if (this.pids === undefined) return;
    for (const [pid, start] of this.pids) if (gone(pid, start)) this.pids.delete(pid);
    if (this.pids.size === 0) this.pids = undefined;
  }

  /**
   * The record for a reply: the in-memory one, or for a slim entry the one on disk (the same record
   * before its bulky parts were cut); if that cannot be read, the slim one (its claude `result` cut
   * and `result_truncated` true, so claude_result still reads the whole text from the output).
   */
  replyRecord(): ProcessRecord {
    if (this.slim === undefined) return this.stored.record;
    return readStoredText(this.pd, this.id)?.record ?? this.stored.record;
  }

  /**
   * Puts back what slimming cut (from record.json) before the record changes or is written again:
   * the slimmer's parts and the stored environment overrides.
   */
  unslim(): void {
    const restore = this.slim;
    if (restore === undefined) return;
    this.slim = undefined;
    this.settled = false;
    const onDisk = readStoredText(this.pd, this.id);
    if (onDisk === undefined) return;
    restore(this.stored.record, onDisk.record);
    // Settling drops the environment overrides of every ended record (supervisor.ts settle).
    if (this.stored.env === null) this.stored.env = onDisk.env ?? null;
  }

  /**
   * Resolves true when the process ends, false when `ms` passes or `signal` aborts first. Leaves no
   * listener, timer or closure behind either way.
   */
  waitEnd(ms: number, signal?: AbortSignal): Promise<boolean> {
    if (this.ended) return Promise.resolve(true);
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (v: boolean): void => {
        this.waiters?.delete(onEnd);
        if (this.waiters?.size === 0) this.waiters = undefined;
        if (timer !== undefined) clearTimeout(timer);
        if (signal) offAbort(signal, onAbort);
        resolve(v);
      };
      const onEnd = (): void => finish(true);
      const onAbort = (): void => finish(false);
      (this.waiters ??= new Set()).add(onEnd);
      if (Number.isFinite(ms)) timer = setTimeout(() => finish(false), Math.max(0, ms));
      if (signal) onAbortOf(signal, onAbort);
    });
  }

  /** Resolves true once the command has ended and left no lingering tree, false after `ms`. */
  waitTreeEnd(ms: number): Promise<boolean> {
    if (this.ended && !this.lingering) return Promise.resolve(true);
    return new Promise((resolve) => {
      const onEnd = (): void => {
        clearTimeout(timer);
        this.dropTreeWaiter(onEnd);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.dropTreeWaiter(onEnd);
        resolve(false);
      }, Math.max(0, ms));
      (this.treeWaiters ??= new Set()).add(onEnd);
    });
  }

  /** Wakes waitTreeEnd callers; called when the lingering wrapper is gone. */
  notifyTreeEnded(): void {
    this.lingering = false;
    if (this.treeWaiters !== undefined) for (const w of [...this.treeWaiters]) w();
  }

  private dropTreeWaiter(w: () => void): void {
    this.treeWaiters?.delete(w);
    if (this.treeWaiters?.size === 0) this.treeWaiters = undefined;
  }

  /** Wakes every waiter; called once, when the process ends. */
  notifyEnded(): void {
    if (this.waiters !== undefined) for (const w of [...this.waiters]) w();
    this.notifyAttemptEnded();
  }

  /**
   * Like waitEnd for the attempt running when called: also true once that attempt has ended and
   * the record waits for a retry (a kill ladder must stop there, never reach the next attempt).
   */
  waitAttemptEnd(ms: number): Promise<boolean> {
    if (this.ended || this.retryPending) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (v: boolean): void => {
        this.attemptWaiters?.delete(onEnd);
        if (this.attemptWaiters?.size === 0) this.attemptWaiters = undefined;
        clearTimeout(timer);
        resolve(v);
      };
      const onEnd = (): void => done(true);
      const timer = setTimeout(() => done(false), Math.max(0, ms));
      (this.attemptWaiters ??= new Set()).add(onEnd);
    });
  }

  /** Wakes waitAttemptEnd callers: the current attempt has ended (retries, or the final end). */
  notifyAttemptEnded(): void {
    if (this.attemptWaiters !== undefined) for (const w of [...this.attemptWaiters]) w();
  }

  /** Number of pending waiters (tests use it to prove aborted waits leave nothing behind). */
  get waiterCount(): number {
    return this.waiters?.size ?? 0;
  }
}

/**
 * One 'abort' listener per signal, however many waits share it: a connection may hold hundreds of
 * waits at once, and adding a listener each would trip Node's leak warning (and cost memory).
 */
const hubs = new WeakMap<AbortSignal, Set<() => void>>();

function onAbortOf(signal: AbortSignal, cb: () => void): void {
  let set = hubs.get(signal);
  if (set === undefined) {
    const s = new Set<() => void>();
    set = s;
    hubs.set(signal, s);
    signal.addEventListener('abort', () => {
      hubs.delete(signal);
      for (const f of [...s]) f();
    }, { once: true });
  }
  set.add(cb);
}

function offAbort(signal: AbortSignal, cb: () => void): void {
  hubs.get(signal)?.delete(cb);
}
