/**
 * One daemon per state directory. Two daemons on one home would adopt each other's children, run
 * queued work twice and delete each other's files, so the first thing a daemon does with its home
 * (before reading or writing anything else in it) is take an exclusive lock on `daemon.lock`, which
 * it holds until it exits.
 *
 * Node has no flock(2). The daemon opens the lock file itself (libuv opens every descriptor
 * close-on-exec, so no launcher, wrapper or module process ever inherits it) and a short-lived
 * helper calls flock(LOCK_EX|LOCK_NB) on that descriptor, passed as its fd 3. A flock belongs to
 * the open file description, which only the daemon keeps: the lock outlives the helper and is
 * released exactly when the daemon's descriptor closes, however it dies (SIGKILL included). Helpers
 * tried in order: the daemon's own wrapper binary (`--lock`), util-linux or busybox `flock`, python3.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { StartError } from '../socket-file.js';
import { kindOf, readStateFile, SMALL_FILE_CAP_BYTES } from './files.js';

/** The lock file's name in the state directory. */
export const LOCK_FILE = 'daemon.lock';

/** A held lock; `release` closes the descriptor (the daemon's exit does the same). */
export interface StateLock {
  readonly file: string;
  release(): void;
}

/** Who holds the lock, as the holder wrote it. */
interface Holder {
  pid?: unknown;
  socket?: unknown;
}

const PY_LOCK = 'import fcntl,sys\ntry:\n fcntl.flock(3,fcntl.LOCK_EX|fcntl.LOCK_NB)\nexcept BlockingIOError:\n sys.exit(1)';

/**
 * Takes the lock on `home` (a real path) for this daemon, recording its pid and socket in the file
 * for the message a second daemon prints. Throws StartError naming the holder when it is taken.
 */
export function acquireStateLock(home: string, socketPath: string, wrapper: string | undefined): StateLock {
  const file = path.join(home, LOCK_FILE);
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK, 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new StartError(code === 'ELOOP' ? `${file} is a symbolic link; remove it (the daemon never follows links in its state directory).` : `cannot open ${file} (${code ?? String(err)}); check the state directory or choose another --home.`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new StartError(`${file} is not a regular file (${kindOf(st)}); remove it and start again.`);
    const helpers: Array<[string, string[]]> = [
      ...(wrapper !== undefined ? [[wrapper, ['--lock']] as [string, string[]]] : []),
      ['flock', ['-x', '-n', '3']],
      ['python3', ['-c', PY_LOCK]],
    ];
    const tried: string[] = [];
    for (const [cmd, args] of helpers) {
      const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe', fd], timeout: 10_000, encoding: 'utf8' });
      if (r.status === 0) {
        fs.ftruncateSync(fd, 0);
        const text = JSON.stringify({ pid: process.pid, socket: socketPath, home, started_at: new Date().toISOString() });
        fs.writeSync(fd, `${text}\n`, 0);
        return { file, release: () => fs.closeSync(fd) };
      }
      if (r.status === 1) throw heldBy(file, home);
      tried.push(`${path.basename(cmd)}: ${r.error ? ((r.error as NodeJS.ErrnoException).code ?? r.error.message) : `exit ${r.status ?? r.signal}${r.stderr ? ` (${r.stderr.trim().split('\n')[0]})` : ''}`}`);
    }
    throw new StartError(`cannot lock the state directory ${home} (${tried.join('; ')}); install util-linux's flock or a C compiler (then \`npm run build\`), or choose a --home on a local file system.`);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

/** The refusal, naming the holder; its record may lag its lock by a moment, so it is read again briefly. */
function heldBy(file: string, home: string): StartError {
  let h: Holder;
  const deadline = Date.now() + 1000;
  for (;;) {
    try {
      h = JSON.parse(readStateFile(file, SMALL_FILE_CAP_BYTES) ?? '{}') as Holder;
    } catch {
      h = {};
    }
    if ((typeof h.pid === 'number' && isRunning(h.pid)) || Date.now() > deadline) break;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
  const pid = typeof h.pid === 'number' ? h.pid : 'unknown';
  const socket = typeof h.socket === 'string' ? h.socket : 'unknown';
  return new StartError(`the state directory ${home} is in use by another daemon (pid ${pid}, socket ${socket}); stop it with \`claude-daemon shutdown --socket ${socket}\`, or give this one its own --home.`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
