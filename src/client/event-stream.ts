/**
 * A watch as an async iterator: `for await (const ev of client.watch({types: ['ended']}))`. Event
 * lines the connection receives are queued here until the consumer pulls them. It ends when the
 * consumer breaks out (`return()`, which sends `unwatch`), after an `overflow` notice (the daemon
 * dropped the watch), when the client is closed, or with the ClientError of a lost connection.
 */
import type { EventLine } from '../protocol/events.js';
import type { WatchResult } from '../protocol/schemas/events.js';

/** See the file comment. */
export class EventStream implements AsyncIterableIterator<EventLine> {
  private readonly queue: EventLine[] = [];
  private waiter: { resolve: (r: IteratorResult<EventLine>) => void; reject: (e: Error) => void } | undefined;
  private done = false;
  private error: Error | undefined;
  /** The seq of the last journaled event yielded (null before any): pass it as `since_seq` to resume. */
  lastSeq: number | null = null;

  constructor(
    /** Resolves with the `watch` reply; rejects if the daemon refused it. */
    readonly ready: Promise<WatchResult>,
    private readonly unwatch: () => Promise<unknown>,
  ) {
    ready.catch((err: Error) => this.end(err));
  }

  /** True once the stream ended (nothing more will be yielded after the queue). */
  get ended(): boolean {
    return this.done;
  }

  /** @internal the client hands each event line of its connection here. */
  push(ev: EventLine): void {
    if (this.done) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      this.yielded(ev);
      w.resolve({ value: ev, done: false });
    } else {
      this.queue.push(ev);
    }
    if (ev.type === 'overflow') this.end();
  }

  /** @internal ends the stream (with `err`: the consumer's next pull rejects once the queue is empty). */
  end(err?: Error): void {
    if (this.done) return;
    this.done = true;
    this.error = err;
    if (this.waiter && this.queue.length === 0) {
      const w = this.waiter;
      this.waiter = undefined;
      if (err) w.reject(err);
      else w.resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<EventLine>> {
    const ev = this.queue.shift();
    if (ev !== undefined) {
      this.yielded(ev);
      return Promise.resolve({ value: ev, done: false });
    }
    if (this.done) return this.error ? Promise.reject(this.error) : Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  /** Stops watching (sends `unwatch` unless the stream already ended). */
  async return(): Promise<IteratorResult<EventLine>> {
    const wasDone = this.done;
    this.queue.length = 0;
    this.end();
    if (!wasDone) await this.unwatch().catch(() => undefined);
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private yielded(ev: EventLine): void {
    if (ev.seq !== null) this.lastSeq = ev.seq;
  }
}
