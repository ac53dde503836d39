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

/** Writes replies to one socket, streams big ones, and hands out turns to produce them. */
export class ReplyWriter {
  private streaming = false;
  private readonly backlog: Waiting[] = [];
  private backlogBytes = 0;
  private turnHeld = false;
  private readonly turnWaiters: Array<{ grant: () => void; fail: (err: Error) => void }> = [];
  private closed = false;

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
    const line = encodeReply(reply, id);
    if (!this.streaming) {
      this.socket.write(line);
      return undefined;
    }
    const bytes = Buffer.byteLength(line);
    this.backlog.push({ line, bytes });
    this.backlogBytes += bytes;
    return undefined;
  }

  /** The socket closed: nothing more will be produced or written. */
  close(): void {
    this.closed = true;
    for (const w of this.turnWaiters.splice(0)) w.fail(gone());
    for (const w of this.backlog.splice(0)) {
      if ('stream' in w) void w.stream.close().catch(() => undefined).then(w.done);
    }
    this.backlogBytes = 0;
  }

  private writable(): boolean {
    return !this.closed && !this.socket.destroyed && this.socket.writable && !this.socket.writableEnded;
  }

  private changed(): void {
    this.grantNext();
    this.onChange();
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
