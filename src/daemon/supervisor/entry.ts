/**
 * The supervisor's in-memory view of one process: its stored record plus what only a live daemon
 * has (timers, waiters, how it is watched). Waiters live in a Set and remove themselves on
 * timeout or abort, so thousands of short waits on a long-running process leave nothing behind.
 */
import { ENDED_STATUSES, type ProcessRecord, type ProcessStatus } from '../../protocol/schemas/processes.js';
import { readStoredText, type ProcessDir, type StoredProcess } from './store.js';

/** How an adopted process is watched: through its wrapper, or (wrapper gone) the command itself. */
export type WatchMode = 'wrapper' | 'cmd';

/** One process known to the supervisor. */
export class Entry {
  /** Set while the command is being launched; kill and remove wait for it. */
  starting: Promise<void> | undefined;
  timeoutTimer: NodeJS.Timeout | undefined;
  watch: WatchMode | undefined;
  /** Every process signalled so far (pid -> start time): a later step of the ladder signals the
   * survivors again even if they were reparented out of the tree in between. */
  signalled = new Map<number, number>();
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
  private waiters = new Set<() => void>();
  private treeWaiters = new Set<() => void>();

  /** The process id and order of creation: fixed for life, readable without inflating the record. */
  readonly id: string;
  readonly seq: number;
  /** The full stored process; undefined while compacted (see compact). */
  private full: StoredProcess | undefined;
  /**
   * While compacted: the stored process as JSON text (one flat string, a fraction of the objects'
   * size), or for a big record an abridged text used only if record.json cannot be read back.
   */
  private text: string | undefined;
  private abridged = false;
  /** While compacted: the status (always an ended one) and the end time in ms. */
  private endedStatus: ProcessStatus | undefined;
  /** A compacted record's share of list_processes totals (cost), computed when it was compacted. */
  facts: Record<string, number> | undefined;
  /** Called once when a compacted entry is inflated again (the supervisor compacts it later). */
  private onInflate: ((e: Entry) => void) | undefined;

  constructor(
    stored: StoredProcess,
    readonly pd: ProcessDir,
  ) {
    this.full = stored;
    this.id = stored.record.process_id;
    this.seq = stored.seq;
  }

  /**
   * The stored process. On a compacted entry this inflates it again (from its text, or record.json
   * for a big one), so every code path sees a full record; the supervisor compacts it again later.
   */
  get stored(): StoredProcess {
    if (this.full !== undefined) return this.full;
    const full = this.inflate();
    this.full = full;
    this.text = undefined;
    this.signalled = new Map();
    this.waiters = new Set();
    this.treeWaiters = new Set();
    this.endedStatus = undefined;
    const hook = this.onInflate;
    this.onInflate = undefined;
    hook?.(this);
    return full;
  }

  /** The wire record (the same object; callers must not mutate it). */
  get record(): ProcessRecord {
    return this.stored.record;
  }

  /** True once the process can never run again. */
  get ended(): boolean {
    return this.full === undefined || ENDED_STATUSES.has(this.full.record.status);
  }

  /** The status, without inflating a compacted entry. */
  get status(): ProcessStatus {
    return this.full?.record.status ?? this.endedStatus!;
  }

  /** True while only the compact summary is held. */
  get compacted(): boolean {
    return this.full === undefined;
  }

  /**
   * A copy of the record for a reply (list_processes), without inflating the entry: a compacted
   * entry's record is parsed from its text (or read from disk) each time and then dropped.
   */
  peekRecord(): ProcessRecord {
    return this.full?.record ?? this.inflate().record;
  }

  /**
   * Drops the record's objects and keeps it as JSON text (`maxInline` characters at most; a longer
   * one is read back from record.json on demand, its abridged text kept only as a fallback). Only
   * for an ended record already on disk, with nothing pending; `onInflate` runs when it is needed
   * again in full.
   */
  compact(maxInline: number, onInflate: (e: Entry) => void): void {
    const full = this.full;
    if (full === undefined || !ENDED_STATUSES.has(full.record.status)) return;
    let text = JSON.stringify(full);
    this.abridged = text.length > maxInline;
    if (this.abridged) text = JSON.stringify(full, (_k, v: unknown) => (typeof v === 'string' && v.length > 120 ? `${v.slice(0, 120)}…` : v));
    this.text = text;
    this.endedStatus = full.record.status;
    this.full = undefined;
    this.onInflate = onInflate;
    // Nothing waits on or signals an ended, settled process: shared empty ones until inflated again.
    this.signalled = NO_PIDS;
    this.waiters = NO_WAITERS;
    this.treeWaiters = NO_WAITERS;
  }

  private inflate(): StoredProcess {
    if (this.abridged) {
      const fromDisk = readStoredText(this.pd, this.id);
      if (fromDisk !== undefined) return fromDisk;
    }
    return JSON.parse(this.text!) as StoredProcess;
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
        this.waiters.delete(onEnd);
        if (timer !== undefined) clearTimeout(timer);
        if (signal) offAbort(signal, onAbort);
        resolve(v);
      };
      const onEnd = (): void => finish(true);
      const onAbort = (): void => finish(false);
      this.waiters.add(onEnd);
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
        this.treeWaiters.delete(onEnd);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.treeWaiters.delete(onEnd);
        resolve(false);
      }, Math.max(0, ms));
      this.treeWaiters.add(onEnd);
    });
  }

  /** Wakes waitTreeEnd callers; called when the lingering wrapper is gone. */
  notifyTreeEnded(): void {
    this.lingering = false;
    for (const w of [...this.treeWaiters]) w();
  }

  /** Wakes every waiter; called once, when the process ends. */
  notifyEnded(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Number of pending waiters (tests use it to prove aborted waits leave nothing behind). */
  get waiterCount(): number {
    return this.waiters.size;
  }
}

/** What compacted entries hold instead of their own (empty) maps and sets. */
const NO_PIDS: Map<number, number> = new Map();
const NO_WAITERS: Set<() => void> = new Set();

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
