/**
 * The supervisor's in-memory view of one process: its stored record plus what only a live daemon
 * has (timers, waiters, how it is watched). Waiters live in a Set and remove themselves on
 * timeout or abort, so thousands of short waits on a long-running process leave nothing behind.
 */
import { ENDED_STATUSES } from '../../protocol/schemas/processes.js';
import type { ProcessDir, StoredProcess } from './store.js';

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
  readonly signalled = new Map<number, number>();
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
  private readonly waiters = new Set<() => void>();
  private readonly treeWaiters = new Set<() => void>();

  constructor(
    readonly stored: StoredProcess,
    readonly pd: ProcessDir,
  ) {}

  /** The wire record (the same object; callers must not mutate it). */
  get record() {
    return this.stored.record;
  }

  /** True once the process can never run again. */
  get ended(): boolean {
    return ENDED_STATUSES.has(this.stored.record.status);
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
