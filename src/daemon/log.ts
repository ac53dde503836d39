/**
 * The daemon's log: one line per event to its file in the state directory (always) and to stderr in
 * the foreground. Module output arrives here tagged with the module's name, never on the socket.
 *
 * Logging must never hurt the daemon. The file is capped (rotated to daemon.log.1, .2 ... once it
 * would pass `maxBytes`), so it cannot fill the disk. Stderr is written asynchronously with a
 * bounded queue (a terminal that stops reading drops lines, never blocks the daemon), and the first
 * write that fails (EPIPE once the terminal is closed or `| head` exits) ends stderr logging for
 * good, said once in the file. Stderr used to be written through process.stderr, whose EPIPE was an
 * uncaught exception the daemon logged, to stderr, again: a loop that starved every client.
 */
import fs from 'node:fs';

/** Severity, in the order a reader filters by. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** A tagged logger; `child` adds a tag such as `module:example`. */
export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string, err?: unknown): void;
  child(tag: string): Logger;
  close(): void;
}

/** Rotation of the log file: the size that triggers it and how many files are kept in all. */
export interface LogFileOptions {
  maxBytes?: number;
  files?: number;
}

/** Unwritten stderr bytes beyond which new lines are dropped from stderr (they still reach the file). */
const STDERR_QUEUE_BYTES = 256 * 1024;

/** Opens the log file in append mode; a failure to open it still leaves stderr logging working. */
export function createLogger(file: string | undefined, toStderr: boolean, opts: LogFileOptions = {}): Logger {
  const sink = file !== undefined ? new LogFile(file, opts.maxBytes ?? 10 * 1024 * 1024, opts.files ?? 3) : undefined;
  const stderr = toStderr ? new StderrSink((why) => sink?.write(line('warn', '', why))) : undefined;
  const write = (level: LogLevel, tag: string, msg: string): void => {
    const l = line(level, tag, msg);
    stderr?.write(l);
    sink?.write(l);
  };
  const make = (tag: string): Logger => ({
    debug: (m) => {
      if (process.env['CLAUDE_DAEMON_DEBUG']) write('debug', tag, m);
    },
    info: (m) => write('info', tag, m),
    warn: (m) => write('warn', tag, m),
    error: (m, err) => write('error', tag, err === undefined ? m : `${m}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`),
    child: (t) => make(tag ? `${tag}:${t}` : t),
    close: () => {
      stderr?.close();
      sink?.close();
    },
  });
  return make('');
}

function line(level: LogLevel, tag: string, msg: string): string {
  return `${new Date().toISOString()} ${level.padEnd(5)} ${tag ? `[${tag}] ` : ''}${msg}\n`;
}

/** daemon.log with size-capped rotation; every failure is swallowed (disk full, removed directory). */
class LogFile {
  private fd: number | undefined;
  private size = 0;

  constructor(
    private readonly file: string,
    private readonly maxBytes: number,
    private readonly files: number,
  ) {
    this.open();
  }

  write(text: string): void {
    if (this.fd === undefined) return;
    const bytes = Buffer.byteLength(text);
    if (this.size > 0 && this.size + bytes > this.maxBytes) this.rotate();
    if (this.fd === undefined) return;
    try {
      fs.writeSync(this.fd, text);
      this.size += bytes;
    } catch {
      // Disk full or closed: the log is best effort and must never take the daemon down.
    }
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private open(): void {
    try {
      // Never through a symlink planted in the state directory.
      this.fd = fs.openSync(this.file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600);
      this.size = fs.fstatSync(this.fd).size;
    } catch {
      this.fd = undefined;
    }
  }

  /** daemon.log.{n-2} -> .{n-1}, ..., daemon.log -> .1, then a fresh daemon.log (the oldest is dropped). */
  private rotate(): void {
    this.close();
    const name = (i: number): string => (i === 0 ? this.file : `${this.file}.${i}`);
    try {
      if (this.files <= 1) fs.rmSync(this.file, { force: true });
      for (let i = this.files - 2; i >= 0; i--) {
        try {
          fs.renameSync(name(i), name(i + 1));
        } catch {
          // That generation does not exist yet.
        }
      }
    } catch {
      // Best effort; reopening appends to whatever is there.
    }
    this.open();
  }
}

/** Stderr written without ever blocking or looping on its own errors. */
class StderrSink {
  private queue: Buffer[] = [];
  private queued = 0;
  private busy = false;
  private dead = false;
  private dropped = 0;

  constructor(private readonly onDead: (why: string) => void) {}

  write(text: string): void {
    if (this.dead) return;
    if (this.queued + text.length > STDERR_QUEUE_BYTES) {
      this.dropped++;
      return;
    }
    if (this.dropped > 0) {
      this.push(`[${this.dropped} log lines not shown here: stderr was not read fast enough; they are in daemon.log]\n`);
      this.dropped = 0;
    }
    this.push(text);
    this.pump();
  }

  /** Flushes what is queued, once and without waiting (the process may exit right after). */
  close(): void {
    if (this.dead || this.busy || this.queue.length === 0) return;
    try {
      fs.writeSync(2, Buffer.concat(this.queue));
    } catch {
      // Gone or full: nothing more to do at exit.
    }
    this.queue = [];
    this.dead = true;
  }

  private push(text: string): void {
    const b = Buffer.from(text);
    this.queue.push(b);
    this.queued += b.length;
  }

  private pump(): void {
    if (this.busy || this.dead || this.queue.length === 0) return;
    const chunk = this.queue.length === 1 ? this.queue[0]! : Buffer.concat(this.queue);
    this.queue = [];
    this.busy = true;
    fs.write(2, chunk, (err, written) => {
      this.busy = false;
      if (err) {
        if (err.code === 'EAGAIN') {
          this.dropped++; // A non-blocking stderr that is full: drop this chunk, keep going.
          this.queued -= chunk.length;
          return;
        }
        this.dead = true;
        this.queue = [];
        this.queued = 0;
        this.onDead(`stderr is gone (${err.code ?? err.message}); logging to daemon.log only from now on`);
        return;
      }
      this.queued -= written;
      if (written < chunk.length) this.queue.unshift(chunk.subarray(written));
      this.pump();
    });
  }
}
