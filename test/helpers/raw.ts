/** A raw socket client for protocol tests: send exact bytes, read reply lines as parsed objects. */
import net from 'node:net';
import { waitFor } from './wait.js';

/** Parsed reply line. */
export type Reply = { success: boolean; result?: unknown; error?: string; code?: string; id?: string | number } & Record<string, unknown>;

/** A connection that records every reply line. */
export class RawConn {
  readonly replies: Reply[] = [];
  closed = false;
  private buf = '';

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buf += d;
      let nl;
      while ((nl = this.buf.indexOf('\n')) !== -1) {
        this.replies.push(JSON.parse(this.buf.slice(0, nl)) as Reply);
        this.buf = this.buf.slice(nl + 1);
      }
    });
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => undefined);
  }

  /** Opens a raw connection to the socket. */
  static open(path: string): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const s = net.createConnection(path);
      s.once('connect', () => resolve(new RawConn(s)));
      s.once('error', reject);
    });
  }

  /** Writes bytes as given (no newline added). */
  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Waits until at least `n` replies have arrived and returns the first `n`. */
  async waitReplies(n: number, timeoutMs = 10_000): Promise<Reply[]> {
    await waitFor(() => this.replies.length >= n, { timeoutMs, what: `${n} replies (have ${this.replies.length})` });
    return this.replies.slice(0, n);
  }

  /** Sends one request object as a line and waits for the reply with the same id (adds an id if missing). */
  async request(obj: Record<string, unknown>, timeoutMs = 10_000): Promise<Reply> {
    const id = obj['id'] ?? `r${Math.random().toString(36).slice(2)}`;
    this.send(JSON.stringify({ ...obj, id }) + '\n');
    return waitFor(() => this.replies.find((r) => r.id === id), { timeoutMs, what: `reply to ${String(obj['command'])}` });
  }

  close(): void {
    this.socket.destroy();
  }
}
