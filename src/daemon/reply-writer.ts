/**
 * The writing side of one connection and its reply budget. Promise 5 (a client that does not read
 * costs about 1 MiB) must hold for replies the client itself makes big: a reply is counted against
 * the budget before it is produced, not after. Producers of big replies (`read_output`) take a
 * turn here first: one at a time per connection, and only while less than the budget is unsent; a
 * reply larger than a piece is streamed (StreamedResult), each piece read and written only once the
 * client has taken the previous ones. Replies finished while a stream is being written wait behind
 * it (counted as unsent), so lines never interleave.
 */
import type net from 'node:net';
import { encodeReply, type RequestId, type WireReply } from '../protocol/envelope.js';
import { CommandError } from './command-error.js';
import type { Logger } from './log.js';
import { StreamedResult } from './streamed-result.js';

/** A reply waiting behind a stream: an encoded line, or another stream. */
type Waiting = { line: string; bytes: number } | { stream: StreamedResult; id: RequestId | undefined; done: () => void };

/** A whole reply finished while over the budget: kept as its value, encoded only once there is room. */
interface Held {
  reply: WireReply;
  id: RequestId | undefined;
  done: () => void;
}

/** Longest reply line produced whole (any reply but a streamed `read_output`); beyond it, REPLY_TOO_LARGE. */
export const MAX_WHOLE_REPLY_BYTES = 8 * 1024 * 1024;

/** `call_function` requests one connection runs at once (each holds a slot until its reply is written). */
export const RESULT_SLOTS = 32;

/** Writes replies to one socket, streams big ones, and hands out turns to produce them. */
export class ReplyWriter {
  private streaming = false;
  private readonly backlog: Waiting[] = [];
  private backlogBytes = 0;
  private turnHeld = false;
  private readonly turnWaiters: Array<{ grant: () => void; fail: (err: Error) => void }> = [];
  private closed = false;
  /** Whole replies finished while over the budget, in the order they finished. */
  private readonly held: Held[] = [];
  private slotsHeld = 0;
  private readonly slotWaiters: Array<{ grant: () => void; fail: (err: Error) => void }> = [];

  constructor(
    private readonly socket: net.Socket,
    /** Unsent reply bytes beyond which nothing more is produced (and the connection stops reading). */
    private readonly budget: number,
    private readonly log: Logger,
    /** Called when unsent bytes may have fallen (the socket drained, a stream ended). */
    private readonly onChange: () => void,
  ) {
    socket.on('drain', () => this.changed());
  }

  /** Reply bytes produced but not yet taken by the client. */
  get unsent(): number {
    return this.socket.writableLength + this.backlogBytes;
  }

  /** True while more than the budget is unsent. */
  get over(): boolean {
    return this.unsent > this.budget;
  }

  /** True while a reply is being streamed or waits behind one. */
  get busy(): boolean {
    return this.streaming || this.backlog.length > 0;
  }

  /**
   * Waits for this connection's turn to produce a big reply: granted in request order, one at a
   * time, while less than the budget is unsent. The caller ends the turn with `release()` once the
   * reply is written. Rejects once the connection is closed (the reply would go nowhere).
   */
  acquire(): Promise<void> {
    if (this.closed) return Promise.reject(gone());
    if (!this.turnHeld && this.turnWaiters.length === 0 && !this.over) {
      this.turnHeld = true;
      return Promise.resolve();
    }
    return new Promise((grant, fail) => this.turnWaiters.push({ grant, fail }));
  }

  /** Ends the current turn; the next producer may start once the budget allows. */
  release(): void {
    this.turnHeld = false;
    this.grantNext();
  }

  /**
   * Waits for one of the connection's RESULT_SLOTS (in request order): a request whose result is made
   * in memory before it can be counted (`call_function`) takes one first, and gives it back with
   * `releaseSlot()` once its reply is written, so at most RESULT_SLOTS such results are ever held.
   */
  acquireSlot(): Promise<void> {
    if (this.closed) return Promise.reject(gone());
    if (this.slotsHeld < RESULT_SLOTS && this.slotWaiters.length === 0) {
      this.slotsHeld++;
      return Promise.resolve();
    }
    return new Promise((grant, fail) => this.slotWaiters.push({ grant, fail }));
  }

  /** Gives a slot back; the next waiting request starts. */
  releaseSlot(): void {
    const w = this.slotWaiters.shift();
    if (w === undefined) this.slotsHeld--;
    else w.grant();
  }

  /** Writes one reply. A streamed one returns a promise that settles once it is written in full (or abandoned). */
  write(reply: WireReply, id: RequestId | undefined): Promise<void> | undefined {
    if (reply.success && reply.result instanceof StreamedResult) {
      const stream = reply.result;
      if (!this.writable()) {
        void stream.close().catch(() => undefined);
        return undefined;
      }
      if (this.streaming) return new Promise((done) => this.backlog.push({ stream, id, done }));
      return this.runStream(stream, id);
    }
    if (!this.writable()) return undefined;
    if (this.over || this.held.length > 0) {
      // Not encoded yet: the line (the real cost) is produced once the client has taken the budget.
      return new Promise((done) => this.held.push({ reply, id, done }));
    }
    this.writeWhole(reply, id);
    return undefined;
  }

  /**
   * Writes one event line (already encoded), or queues it behind a reply being streamed so lines
   * never interleave. Not held like replies: the events domain bounds its own unsent bytes.
   */
  writeEvent(line: string): void {
    if (!this.writable()) return;
    if (!this.streaming) {
      this.socket.write(line);
      return;
    }
    const bytes = Buffer.byteLength(line);
    this.backlog.push({ line, bytes });
    this.backlogBytes += bytes;
  }

  /** Encodes and writes (or queues behind a stream) one whole reply, replaced by REPLY_TOO_LARGE when over the cap. */
  private writeWhole(reply: WireReply, id: RequestId | undefined): void {
    let line = encodeReply(reply, id);
    if (line.length > MAX_WHOLE_REPLY_BYTES / 3 && Buffer.byteLength(line) > MAX_WHOLE_REPLY_BYTES) {
      const size = Buffer.byteLength(line);
      line = encodeReply(
        {
          success: false,
          code: 'REPLY_TOO_LARGE',
          error: `the reply would be ${size} bytes, over the ${MAX_WHOLE_REPLY_BYTES} bytes one reply may have; return less (e.g. write it to a file and read it with a process's read_output) and retry`,
        },
        id,
      );
    }
    if (!this.streaming) {
      this.socket.write(line);
      return;
    }
    const bytes = Buffer.byteLength(line);
    this.backlog.push({ line, bytes });
    this.backlogBytes += bytes;
  }

  /** The socket closed: nothing more will be produced or written. */
  close(): void {
    this.closed = true;
    for (const w of this.turnWaiters.splice(0)) w.fail(gone());
    for (const w of this.slotWaiters.splice(0)) w.fail(gone());
    for (const h of this.held.splice(0)) h.done();
    for (const w of this.backlog.splice(0)) {
      if ('stream' in w) void w.stream.close().catch(() => undefined).then(w.done);
    }
    this.backlogBytes = 0;
  }

  private writable(): boolean {
    return !this.closed && !this.socket.destroyed && this.socket.writable && !this.socket.writableEnded;
  }

  private changed(): void {
    this.flushHeld();
    this.grantNext();
    this.onChange();
  }

  /** Encodes held replies while there is room (reentrancy-safe: each write may make `over` true). */
  private flushHeld(): void {
    while (this.held.length > 0 && !this.over) {
      const h = this.held.shift()!;
      if (this.writable()) this.writeWhole(h.reply, h.id);
      h.done();
    }
  }

  private grantNext(): void {
    if (this.turnHeld || this.closed || this.over) return;
    const w = this.turnWaiters.shift();
    if (w === undefined) return;
    this.turnHeld = true;
    w.grant();
  }

  private async runStream(s: StreamedResult, id: RequestId | undefined): Promise<void> {
    this.streaming = true;
    try {
      await this.pump(s, id);
    } catch (err) {
      // Part of the line is out: no reply can follow it honestly. The client sees the connection close.
      this.log.error('a streamed reply failed half-way; closing its connection', err);
      this.socket.destroy();
    } finally {
      await s.close().catch(() => undefined);
      this.streaming = false;
      this.flushBacklog();
    }
  }

  /** Writes the line piece by piece, each once the client has taken what came before. */
  private async pump(s: StreamedResult, id: RequestId | undefined): Promise<void> {
    const head = JSON.stringify(s.head);
    let out = `{"success":true,"result":${head.slice(0, -1)}${head.length > 2 ? ',' : ''}${JSON.stringify(s.field)}:"`;
    for await (const piece of s.pieces) {
      if (!this.writable()) return; // Client gone: stop reading for it.
      this.socket.write(out + JSON.stringify(piece).slice(1, -1));
      out = '';
      await this.room();
    }
    if (!this.writable()) return;
    const tail = JSON.stringify(s.tail());
    this.socket.write(`${out}"${tail.length > 2 ? `,${tail.slice(1, -1)}` : ''}}${id !== undefined ? `,"id":${JSON.stringify(id)}` : ''}}\n`);
  }

  /** Resolves once less than the budget waits in the socket (or it closed). */
  private room(): Promise<void> {
    if (this.socket.writableLength < this.budget || !this.writable()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  private flushBacklog(): void {
    while (this.backlog.length > 0 && !this.streaming) {
      const w = this.backlog.shift()!;
      if ('line' in w) {
        this.backlogBytes -= w.bytes;
        if (this.writable()) this.socket.write(w.line);
      } else {
        void this.runStream(w.stream, w.id).then(w.done); // Sets `streaming` at once: the loop stops.
      }
    }
    this.changed();
  }
}

function gone(): CommandError {
  // Never sent: the connection is closed. A CommandError so it is not logged as a daemon bug.
  return new CommandError('INTERNAL_ERROR', 'the client went away before its reply was produced');
}
