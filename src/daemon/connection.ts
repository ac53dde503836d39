/**
 * One client connection. Requests with an `id` are answered as soon as they finish (so a slow wait
 * never holds back a ping); requests without one are answered in the order they came. Memory per
 * connection is bounded three ways: the line cap, the in-flight cap, and the unsent-reply budget,
 * beyond which reading pauses until the client reads (and a client stuck there is closed). Big
 * replies are counted against that budget before they are produced (see ReplyWriter).
 */
import type net from 'node:net';
import type { RequestId, WireReply } from '../protocol/envelope.js';
import { LineSplitter, type FrameEvent } from '../protocol/framing.js';
import { dispatchLine, errorReply } from './dispatch.js';
import { ReplyWriter } from './reply-writer.js';
import type { EventSink, Subscriber } from './events/index.js';
import type { Services } from './services.js';

/**
 * Request lines handled per event-loop turn before yielding to other connections. Small enough that
 * 20 flooding clients delay a ping by only a few ms; large enough that yielding costs little and
 * 100 pipelined `kill_process` are mostly signalled in one turn, before their exits interleave (16 gave
 * 163 ms to stop 100 in bench/stop.bench.ts, 64 gave 119 ms; the 20-flood ping test: p50 11 ms).
 */
const LINES_PER_TURN = 64;

/** Why reading is paused: unsent replies over the cap, too many requests in flight, or a yielded turn. */
type PauseReason = 'replies' | 'inflight' | 'turn';

/** Serves one socket until it closes; `inFlight` lets shutdown wait for pending replies. */
export class Connection {
  private readonly splitter: LineSplitter;
  private readonly abort = new AbortController();
  private orderedTail: Promise<void> = Promise.resolve();
  private inFlight = 0;
  private pausedFor = new Set<PauseReason>();
  /** Lines read but not yet handled (at most one chunk's worth: reading pauses while any wait). */
  private queue: FrameEvent[] = [];
  private head = 0;
  private corked = false;
  private inputEnded = false;
  private finishCheckScheduled = false;
  private stuckTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private stopped = false;
  private orderedPending = 0;
  /** Requests read whose reply is not yet fully written (or dropped with the connection). */
  private unwritten = 0;
  private idleResolvers: Array<() => void> = [];
  private readonly writer: ReplyWriter;
  /** The connection's event subscription, made on its first `watch`. */
  private subscriber: Subscriber | undefined;

  constructor(
    private readonly socket: net.Socket,
    private readonly services: Services,
    private readonly isShuttingDown: () => boolean,
  ) {
    this.splitter = new LineSplitter(services.config.maxLineBytes);
    this.writer = new ReplyWriter(socket, services.config.maxPendingReplyBytes, services.log, () => this.checkBudget());
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined); // A reset by the peer is routine; 'close' follows.
    socket.on('end', () => {
      this.inputEnded = true;
      this.scheduleFinishCheck();
    });
    socket.on('close', () => this.onClose());
  }

  /** Resolves once every request of this connection has its reply written. */
  whenIdle(): Promise<void> {
    if (this.unwritten === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleResolvers.push(resolve));
  }

  /** Cancels long requests (waits) so they reply now; used by shutdown. */
  abortPending(): void {
    this.abort.abort();
  }

  /** Closes after the replies already written have been flushed (or after 1 s if the client does not read them). */
  end(): void {
    this.closeAfterFlush();
  }

  private onData(chunk: Buffer): void {
    if (this.stopped) return;
    for (const ev of this.splitter.push(chunk)) this.queue.push(ev);
    this.drain();
  }

  /**
   * Handles queued lines, at most LINES_PER_TURN per event-loop turn: a client that sends thousands
   * of requests in one chunk yields to every other connection between batches (fairness), and
   * reading stays paused while lines wait, so the queue never holds more than one chunk.
   */
  private drain(): void {
    this.corkForTurn();
    let budget = LINES_PER_TURN;
    while (this.head < this.queue.length && !this.stopped && !this.closed) {
      if (this.pausedFor.has('replies') || this.pausedFor.has('inflight')) return; // resume() drains again.
      if (budget-- === 0) {
        this.pause('turn');
        setImmediate(() => this.resume('turn'));
        return;
      }
      const ev = this.queue[this.head++]!;
      if (ev.kind === 'too_large') {
        const limit = this.services.config.maxLineBytes;
        this.stopped = true;
        this.socket.pause(); // Nothing more will be read from it: do not let it fill our memory meanwhile.
        this.send(errorReply('REQUEST_TOO_LARGE', `request line exceeds ${limit} bytes; the connection is closed. Send smaller requests.`), undefined, true);
        void Promise.all([this.orderedTail, this.whenIdle()]).then(() => this.closeAfterFlush());
        break;
      }
      if (ev.text.trim() !== '') this.handleLine(ev.text);
    }
    if (this.head >= this.queue.length || this.stopped) {
      this.queue = [];
      this.head = 0;
      this.scheduleFinishCheck();
    }
  }

  /**
   * Once the client has shut its sending side, ends ours after every request it sent is answered.
   * Checked after the current turn, so replies resolved in this turn are written first.
   */
  private scheduleFinishCheck(): void {
    if (!this.inputEnded || this.finishCheckScheduled) return;
    this.finishCheckScheduled = true;
    setImmediate(() => {
      this.finishCheckScheduled = false;
      if (this.closed || this.head < this.queue.length || this.unwritten > 0) return;
      this.socket.end();
    });
  }

  /**
   * Holds this turn's replies and writes them in one system call when the turn ends (the floor
   * server's one write per chunk costs far less than one write per reply under load).
   */
  private corkForTurn(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    setImmediate(() => {
      this.corked = false;
      this.socket.uncork();
    });
  }

  private handleLine(line: string): void {
    if (this.isShuttingDown()) {
      const id = safeId(line);
      this.send(errorReply('SHUTTING_DOWN', 'the daemon is shutting down; start it again and retry'), id, id === undefined);
      return;
    }
    // The request's turn to produce a big reply, if its handler asks for one; it ends once the reply is written.
    let holds = false;
    const replyTurn = async (): Promise<void> => {
      if (holds) return;
      await this.writer.acquire();
      holds = true;
    };
    let slot = false;
    const resultSlot = async (): Promise<void> => {
      if (slot) return;
      await this.writer.acquireSlot();
      slot = true;
    };
    let after: Array<() => void> | undefined;
    const afterReply = (fn: () => void): void => void (after ??= []).push(fn);
    const { id, reply } = dispatchLine(line, { services: this.services, signal: this.abort.signal, replyTurn, resultSlot, events: this.events, afterReply });
    this.track(reply);
    this.send(reply, id, id === undefined, () => {
      for (const fn of after?.splice(0) ?? []) fn();
      if (holds) this.writer.release();
      holds = false;
      if (slot) this.writer.releaseSlot();
      slot = false;
    });
  }

  /** The subscriber, made on first use (a connection that never watches costs nothing). */
  private readonly events = (): Subscriber => {
    if (this.subscriber !== undefined) return this.subscriber;
    const socket = this.socket;
    const writer = this.writer;
    const sink: EventSink = {
      write: (line) => writer.writeEvent(line),
      unsent: () => writer.unsent,
      drained: (ms) =>
        new Promise((resolve) => {
          const done = (): void => {
            clearTimeout(timer);
            socket.off('drain', done);
            socket.off('close', done);
            resolve();
          };
          const timer = setTimeout(done, ms);
          socket.on('drain', done);
          socket.on('close', done);
        }),
      get closed() {
        return socket.destroyed || !socket.writable;
      },
    };
    this.subscriber = this.services.events.subscriber(sink);
    return this.subscriber;
  };

  private track(reply: Promise<WireReply> | WireReply): void {
    if (!(reply instanceof Promise)) return;
    this.inFlight++;
    if (this.inFlight >= this.services.config.maxInFlightPerConnection) this.pause('inflight');
    void reply.finally(() => {
      this.inFlight--;
      if (this.inFlight < this.services.config.maxInFlightPerConnection / 2) this.resume('inflight');
    });
  }

  /**
   * Writes a reply now (with id) or after every earlier id-less reply (without); `done` runs once it
   * is written (a streamed reply: in full).
   */
  private send(reply: Promise<WireReply> | WireReply, id: RequestId | undefined, ordered: boolean, done: () => void = () => undefined): void {
    this.unwritten++;
    if (!ordered) {
      if (reply instanceof Promise) void reply.then((r) => this.deliver(r, id, done));
      else void this.deliver(reply, id, done);
      return;
    }
    if (!(reply instanceof Promise) && this.orderedPending === 0) {
      void this.deliver(reply, id, done);
      return;
    }
    this.orderedPending++;
    this.orderedTail = this.orderedTail.then(async () => {
      await this.deliver(await reply, id, done);
      this.orderedPending--;
    });
  }

  private deliver(reply: WireReply, id: RequestId | undefined, done: () => void): Promise<void> | undefined {
    const writing = this.writer.write(reply, id);
    if (writing === undefined) {
      this.written(done);
      return undefined;
    }
    return writing.then(() => this.written(done));
  }

  private written(done: () => void): void {
    done();
    this.unwritten--;
    this.checkBudget();
    if (this.unwritten === 0) {
      for (const r of this.idleResolvers.splice(0)) r();
      this.scheduleFinishCheck();
    }
  }

  /** Reading pauses while more than the budget of replies is unsent, and resumes once less is. */
  private checkBudget(): void {
    if (this.writer.over) this.pause('replies');
    else this.resume('replies');
  }

  private pause(reason: PauseReason): void {
    this.pausedFor.add(reason);
    this.socket.pause();
    if (reason === 'replies' && this.stuckTimer === undefined) {
      this.stuckTimer = setTimeout(() => {
        this.services.log.warn('closing a client that has not read its replies');
        this.socket.destroy();
      }, this.services.config.stuckClientMs);
      this.stuckTimer.unref();
    }
  }

  private resume(reason: PauseReason): void {
    if (!this.pausedFor.delete(reason)) return;
    if (reason === 'replies' && this.stuckTimer !== undefined) {
      clearTimeout(this.stuckTimer);
      this.stuckTimer = undefined;
    }
    if (this.closed || this.stopped) return;
    this.drain();
    // Read more only once every queued line is handled and nothing else holds reading back.
    if (this.pausedFor.size === 0 && this.head >= this.queue.length) this.socket.resume();
  }

  private closeAfterFlush(): void {
    this.socket.end();
    const t = setTimeout(() => this.socket.destroy(), 1000);
    t.unref();
  }

  private onClose(): void {
    this.closed = true;
    this.writer.close();
    this.subscriber?.close();
    if (this.stuckTimer !== undefined) clearTimeout(this.stuckTimer);
    this.abort.abort();
  }
}

/** Best-effort id of a line we will not otherwise parse (during shutdown). */
function safeId(line: string): RequestId | undefined {
  try {
    const v = (JSON.parse(line) as { id?: unknown }).id;
    return typeof v === 'string' || typeof v === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}
