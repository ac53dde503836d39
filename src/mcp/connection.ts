/**
 * The MCP server's link to the daemon: one shared connection, opened on first use, started when
 * nobody answers (through the CLI's own `start --detach` path, injected so this layer never reaches
 * the CLI), and dropped when it breaks so the next call reconnects to whatever daemon now answers
 * (a kept daemon restarted by its keeper, or one started by hand).
 */
import { connect, type DaemonClient } from '../client/client.js';
import { ClientError } from '../client/errors.js';
import type { ResultOf } from '../protocol/index.js';

/** How a daemon gets started when none answers: `ok`, or why not (a message). */
export type StartDaemon = () => Promise<{ ok: true; pid: number } | { ok: false; message: string }>;

/** Options of the link. */
export interface DaemonLinkOptions {
  /** The resolved socket path. */
  socket: string;
  /** Starts a daemon when none answers; absent: never start one (`mcp --no-start`). */
  startDaemon?: StartDaemon;
  /** One line for the server's log (stderr: stdout carries only protocol messages). */
  log(line: string): void;
}

/** No daemon answers and none could be started; the message says how to start one. */
export class NoDaemonError extends Error {
  override name = 'NoDaemonError';
}

/** After a failed start, calls within this long fail at once instead of starting again. */
const RETRY_START_AFTER_MS = 10_000;

/** A lazily (re)connected client plus what `ping` said about the daemon behind it. */
export class DaemonLink {
  private current: Promise<{ client: DaemonClient; info: ResultOf<'ping'> }> | undefined;
  private resolved: { client: DaemonClient; info: ResultOf<'ping'> } | undefined;
  private lastStartFailure: { at: number; message: string } | undefined;
  private closed = false;

  constructor(private readonly opts: DaemonLinkOptions) {}

  /** The socket this link talks to. */
  get socket(): string {
    return this.opts.socket;
  }

  /** The shared connection, opened (and the daemon started) if needed. */
  async client(): Promise<DaemonClient> {
    return (await this.session()).client;
  }

  /** What the daemon said of itself when this connection was opened (its home, version, pid). */
  async info(): Promise<ResultOf<'ping'>> {
    return (await this.session()).info;
  }

  /**
   * A connection of its own for one long call (a `wait` that may end early): closing it ends the
   * daemon-side waits with it. The shared one is opened first so a missing daemon gets started.
   */
  async dedicated(): Promise<DaemonClient> {
    await this.session();
    return connect({ socketPath: this.opts.socket, connectTimeoutMs: 5000 });
  }

  /** Forgets `client` if it is the current connection (it broke); the next call reconnects. */
  drop(client?: DaemonClient): void {
    if (client !== undefined && this.resolved?.client !== client) return;
    this.resolved?.client.close();
    this.resolved = undefined;
    this.current = undefined;
  }

  /** Closes the connection for good (the server is stopping). */
  close(): void {
    this.closed = true;
    this.drop();
  }

  private session(): Promise<{ client: DaemonClient; info: ResultOf<'ping'> }> {
    if (this.closed) return Promise.reject(new ClientError('CLOSED', 'the MCP server is shutting down'));
    if (this.current === undefined) {
      const attempt = this.open();
      this.current = attempt;
      attempt.then(
        (s) => {
          if (this.current === attempt) this.resolved = s;
          else s.client.close();
        },
        () => {
          if (this.current === attempt) this.current = undefined;
        },
      );
    }
    return this.current;
  }

  private async open(): Promise<{ client: DaemonClient; info: ResultOf<'ping'> }> {
    try {
      return await this.tryConnect();
    } catch (err) {
      if (!(err instanceof ClientError) || err.kind !== 'NO_DAEMON') throw err;
      return this.startAndConnect(err);
    }
  }

  private async tryConnect(): Promise<{ client: DaemonClient; info: ResultOf<'ping'> }> {
    const client = await connect({ socketPath: this.opts.socket, connectTimeoutMs: 5000 });
    try {
      return { client, info: await client.ping({ timeoutMs: 10_000 }) };
    } catch (err) {
      client.close();
      throw err;
    }
  }

  private async startAndConnect(noDaemon: ClientError): Promise<{ client: DaemonClient; info: ResultOf<'ping'> }> {
    const how = `start one with \`claude-daemon start --detach --socket ${this.opts.socket}\` (or \`npx claude-daemon start --detach\`), then call this tool again`;
    const start = this.opts.startDaemon;
    if (start === undefined) throw new NoDaemonError(`no daemon answers on ${this.opts.socket} (this MCP server was started with --no-start): ${how}`);
    const failed = this.lastStartFailure;
    if (failed !== undefined && Date.now() - failed.at < RETRY_START_AFTER_MS) throw new NoDaemonError(failed.message);
    this.opts.log(`no daemon answers on ${this.opts.socket} (${noDaemon.message}); starting one in the background (as \`claude-daemon start --detach\`)`);
    const r = await start();
    if (r.ok) this.opts.log(`started the daemon: pid ${r.pid}, socket ${this.opts.socket}`);
    try {
      // Also when the start failed: another server may have started one at the same moment.
      return await this.tryConnect();
    } catch (err) {
      const why = r.ok ? (err as Error).message : r.message.trim();
      const message = `no daemon answers on ${this.opts.socket} and starting one failed: ${why}. To fix it, ${how}`;
      this.opts.log(message);
      this.lastStartFailure = { at: Date.now(), message };
      throw new NoDaemonError(message);
    }
  }
}
