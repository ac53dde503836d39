/**
 * The daemon's log: one line per event to its file in the state directory (always) and to stderr in
 * the foreground. Module output arrives here tagged with the module's name, never on the socket.
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

/** Opens the log file in append mode; a failure to open it still leaves stderr logging working. */
export function createLogger(file: string | undefined, toStderr: boolean): Logger {
  let fd: number | undefined;
  if (file !== undefined) {
    try {
      fd = fs.openSync(file, 'a', 0o600);
    } catch {
      fd = undefined;
    }
  }
  const write = (level: LogLevel, tag: string, msg: string): void => {
    const line = `${new Date().toISOString()} ${level.padEnd(5)} ${tag ? `[${tag}] ` : ''}${msg}\n`;
    if (toStderr) process.stderr.write(line);
    if (fd !== undefined) {
      try {
        fs.writeSync(fd, line);
      } catch {
        // Disk full or closed: the log is best effort and must never take the daemon down.
      }
    }
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
      if (fd !== undefined) fs.closeSync(fd);
      fd = undefined;
    },
  });
  return make('');
}
