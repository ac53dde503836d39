/**
 * The daemon's handles on the module host process (host-process.ts) and on each module version's
 * worker thread inside it. A HostWorker stands in for a worker_threads Worker: JsRuntime posts to
 * it and hears its messages, its log lines and its end, which is either the worker's own exit or the
 * death of the whole host.
 */
import type { ChildProcess } from 'node:child_process';
import type { JsonLinesChannel } from './host-channel.js';
import type { FromHost, ToHost, WorkerExit } from './host-messages.js';
import type { FromRuntime, ToRuntime } from './messages.js';

/** How the host ended, for the versions it held. */
export interface HostDeath {
  how: string;
}

/** One version's worker thread inside the host, as a JsRuntime drives it. */
export class HostWorker {
  onMessage: (m: FromRuntime) => void = () => undefined;
  onLog: (level: 'info' | 'warn', line: string) => void = () => undefined;
  onExit: (exit: WorkerExit | HostDeath) => void = () => undefined;
  /** Calls sent and not yet answered, and whether the module is still importing: blame on a host death. */
  readonly open = new Set<number>();
  loading = true;
  /** Order of the latest call sent (or of the start): the blame goes to the latest. */
  lastPost: number;
  private gone = false;
  private direct: JsonLinesChannel<FromRuntime, ToRuntime> | undefined;

  constructor(
    readonly id: number,
    readonly key: string,
    private readonly host: LiveHost,
  ) {
    this.lastPost = ++host.posts;
  }

  post(m: ToRuntime): void {
    if (this.gone) return;
    if (m.t === 'call') {
      this.open.add(m.id);
      this.lastPost = ++this.host.posts;
    }
    if (this.direct?.open) {
      this.direct.send(m);
      return;
    }
    const msg = m.t === 'load' && this.host.directPath ? { ...m, direct: { path: this.host.directPath, w: this.id } } : m;
    this.host.send({ t: 'to', w: this.id, m: msg });
  }

  /** The worker connected to the daemon's direct socket: calls and replies go that way from now on. */
  attach(channel: JsonLinesChannel<FromRuntime, ToRuntime>): void {
    if (this.gone) return channel.close();
    this.direct = channel;
    channel.onMessage = (m) => this.received(m);
  }

  terminate(): void {
    if (!this.gone) this.host.send({ t: 'terminate', w: this.id });
  }

  /** From the host process: a message of this version. */
  received(m: FromRuntime): void {
    if (m.t === 'result' || m.t === 'error') this.open.delete(m.id);
    if (m.t === 'ready' || m.t === 'load_error') this.loading = false;
    this.onMessage(m);
  }

  ended(exit: WorkerExit | HostDeath): void {
    if (this.gone) return;
    this.gone = true;
    this.direct?.close();
    this.onExit(exit);
  }
}

/** A running host process, its pipe, and the workers it holds. */
export class LiveHost {
  readonly workers = new Map<number, HostWorker>();
  dead = false;
  posts = 0;

  constructor(
    readonly child: ChildProcess,
    readonly channel: JsonLinesChannel<FromHost, ToHost>,
    /** The daemon's socket its workers connect to directly; undefined: everything is relayed. */
    readonly directPath: string | undefined,
  ) {}

  send(msg: ToHost): void {
    // After the pipe closed the exit handler fails everything that was on this host.
    if (!this.dead) this.channel.send(msg);
  }
}
