/**
 * The typed, promise-based client. Every request gets an id, so any number can be in flight on one
 * connection and each settles on its own reply; a per-request timeout fails only that request.
 */
import net from 'node:net';
import type { CommandName, ParamsIn, ResultOf } from '../protocol/commands.js';
import type { RequestId, WireReply } from '../protocol/envelope.js';
import { LineSplitter } from '../protocol/framing.js';
import { resolveSocketPath } from '../protocol/paths.js';
import { ClientError, DaemonError } from './errors.js';
import { ModuleMethods } from './methods-modules.js';
import { EventStream } from './event-stream.js';
import { isEventLine } from '../protocol/events.js';

/** How to reach the daemon. */
export interface ConnectOptions {
  /** Socket path; defaults like the daemon's (`CLAUDE_DAEMON_SOCKET`, then /tmp/claude_daemon.sock). */
  socketPath?: string;
  /** Default per-request timeout in ms (0 = none). Long waits pass their own. */
  timeoutMs?: number;
  /** How long to try connecting before giving up. */
  connectTimeoutMs?: number;
}

/** Per-request options. */
export interface RequestOptions {
  /** Fails this request (only) with a TIMEOUT ClientError after this many ms; 0 = never. */
  timeoutMs?: number;
  /** Called with the reply's `warning` (a caveat about a result that stands) before it resolves. */
  onWarning?: (warning: string) => void;
}

interface Pending {
  command: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onWarning: ((warning: string) => void) | undefined;
  timer: NodeJS.Timeout | undefined;
  /** Runs synchronously when the reply line is read, before any later line (a watch's events). */
  onReply?: (() => void) | undefined;
}

/** Replies can be large (output reads), so the client's line cap is far above the daemon's. */
const MAX_REPLY_BYTES = 256 * 1024 * 1024;

/** Opens a connection to the daemon. Rejects with ClientError('NO_DAEMON') when nobody listens. */
export function connect(options: ConnectOptions = {}): Promise<DaemonClient> {
  const socketPath = resolveSocketPath(options.socketPath, process.env);
  return new Promise((resolve, reject) => {
    const sock = net.createConnection(socketPath);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new ClientError('NO_DAEMON', `no answer from a daemon on ${socketPath} within ${options.connectTimeoutMs ?? 5000} ms`));
    }, options.connectTimeoutMs ?? 5000);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      resolve(new DaemonClient(sock, socketPath, options.timeoutMs ?? 0));
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new ClientError('NO_DAEMON', `no daemon is running on ${socketPath} (${err.code ?? err.message}); start one with \`claude-daemon start\``));
    });
  });
}

/** A connection to the daemon with one typed method per command. */
export class DaemonClient extends ModuleMethods {
  private readonly pending = new Map<RequestId, Pending>();
  private nextId = 1;
  private closedError: ClientError | DaemonError | undefined;
  /** The connection's watch (one at a time: a new `watch` replaces it). */
  private stream: EventStream | undefined;

  /** @internal use `connect()` */
  constructor(
    private readonly socket: net.Socket,
    /** The socket this client talks to, for messages. */
    readonly socketPath: string,
    private readonly defaultTimeoutMs: number,
  ) {
    super();
    const splitter = new LineSplitter(MAX_REPLY_BYTES);
    socket.on('data', (chunk: Buffer) => {
      for (const ev of splitter.push(chunk)) {
        if (ev.kind === 'too_large') this.fail(new ClientError('BAD_REPLY', 'reply exceeded the client line limit'));
        else this.onLine(ev.text);
      }
    });
    socket.on('error', (err) => this.fail(new ClientError('CONNECTION_LOST', `connection to the daemon on ${socketPath} failed: ${err.message}`)));
    socket.on('close', () => this.fail(new ClientError('CONNECTION_LOST', `the daemon on ${socketPath} closed the connection`)));
  }

  /** Sends a typed command and resolves with its result, or rejects with DaemonError/ClientError. */
  request<K extends CommandName>(command: K, params?: ParamsIn<K>, opts?: RequestOptions): Promise<ResultOf<K>>;
  /** Sends any command by name (for commands newer than this client's types). */
  request(command: string, params?: Record<string, unknown>, opts?: RequestOptions): Promise<unknown>;
  request(command: string, params: object = {}, opts: RequestOptions = {}): Promise<unknown> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              this.pending.delete(id);
              reject(new ClientError('TIMEOUT', `${command} got no reply within ${timeoutMs} ms`));
            }, timeoutMs)
          : undefined;
      this.pending.set(id, { command, resolve, reject, timer, onWarning: opts.onWarning, onReply: (opts as { onReply?: () => void }).onReply });
      this.socket.write(JSON.stringify({ ...params, command, id }) + '\n');
    });
  }

  /**
   * Watches events on this connection: an async iterator of event lines (see docs/protocol.md,
   * "Events"), beside the connection's other requests. `stream.ready` resolves with the `watch`
   * reply; breaking out of the loop sends `unwatch`. A second watch ends the first.
   */
  watch(params: ParamsIn<'watch'> = {}, opts?: RequestOptions): EventStream {
    this.stream?.end();
    this.stream = undefined;
    // Event lines still arriving for an earlier watch are dropped until this watch's reply is read:
    // the daemon writes this watch's events only after it.
    const ready = this.request('watch', params, { ...opts, onReply: () => this.watchAnswered(stream) } as RequestOptions);
    const stream: EventStream = new EventStream(ready, () => {
      if (this.stream !== stream) return Promise.resolve();
      this.stream = undefined;
      return this.request('unwatch', {});
    });
    return stream;
  }

  /** A watch's reply was read: its stream takes the events from here on (or, if already given up, unwatch). */
  private watchAnswered(stream: EventStream): void {
    if (stream.ended) void this.request('unwatch', {}).catch(() => undefined);
    else this.stream = stream;
  }

  /** Closes the connection; requests still pending reject with CLOSED. */
  close(): void {
    this.fail(new ClientError('CLOSED', 'the client was closed'));
    // Every pending request has just been rejected, so nothing unsent matters: close at once rather
    // than wait for the daemon's FIN (a CLI `ping` would otherwise pay one more round trip to exit).
    this.socket.destroy();
  }

  /** Keeps (true) or stops (false) this connection from holding the process open. */
  ref(keep: boolean): void {
    if (keep) this.socket.ref();
    else this.socket.unref();
  }

  private onLine(line: string): void {
    let reply: WireReply;
    try {
      reply = JSON.parse(line) as WireReply;
    } catch {
      return this.fail(new ClientError('BAD_REPLY', 'the daemon sent a line that is not JSON'));
    }
    if (isEventLine(reply)) {
      this.stream?.push(reply);
      return;
    }
    const id = reply.id;
    // Refused for want of descriptors (the daemon closes next): every request gets that code.
    if (id === undefined && !reply.success && reply.code === 'RESOURCE_EXHAUSTED') return this.fail(new DaemonError(reply.code, reply.error, 'connect'));
    const p = id === undefined ? undefined : this.pending.get(id);
    if (p === undefined || id === undefined) return;
    this.pending.delete(id);
    if (p.timer) clearTimeout(p.timer);
    p.onReply?.();
    if (reply.success) {
      if (typeof reply.warning === 'string') p.onWarning?.(reply.warning);
      p.resolve(reply.result);
    }
    else p.reject(new DaemonError(reply.code, reply.error, p.command));
  }

  private fail(err: ClientError | DaemonError): void {
    if (!this.closedError) this.closedError = err;
    // Closed by us: the stream simply ends; lost: its consumer hears why.
    this.stream?.end(err instanceof ClientError && err.kind === 'CLOSED' ? undefined : err);
    this.stream = undefined;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      if (p.timer) clearTimeout(p.timer);
      p.reject(err);
    }
  }
}
