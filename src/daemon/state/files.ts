/**
 * Opening files in the state directory safely. Whatever is found there may have been edited, planted
 * or damaged: a state file is opened without following a symlink (O_NOFOLLOW) and without blocking
 * (O_NONBLOCK: a FIFO must not hang the daemon), must be a regular file (fstat), and is read with a
 * size cap (a symlink to /dev/zero or a 20 GB file must not fill memory). A directory inside it must
 * be a real directory (not a symlink) owned by the daemon's user.
 */
import fs from 'node:fs';

/** A state file that cannot be trusted; `reason` says why in words a log reader understands. */
export class StateFileError extends Error {
  override name = 'StateFileError';
  constructor(
    readonly file: string,
    readonly reason: string,
    /** The errno name when opening or reading failed (EMFILE, EIO...), so callers can retry. */
    readonly code?: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

/** Largest record.json the daemon reads (a record is a few KB; a claude run's object stays far below this). */
export const RECORD_CAP_BYTES = 4 * 1024 * 1024;
/** Largest small file (exit, started, lock) the daemon reads. */
export const SMALL_FILE_CAP_BYTES = 64 * 1024;

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;

/**
 * Reads a state file as UTF-8, or undefined when it does not exist. Throws StateFileError for a
 * symlink, anything but a regular file, or a file over `maxBytes`.
 */
export function readStateFile(file: string, maxBytes: number): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new StateFileError(file, 'is a symbolic link (state files are never followed)');
    throw new StateFileError(file, `cannot be opened (${code ?? String(err)})`, code);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new StateFileError(file, `is not a regular file (${kindOf(st)})`);
    if (st.size > maxBytes) throw new StateFileError(file, `is larger than ${maxBytes} bytes (${st.size})`);
    // Read at most one byte more than the cap: a file that grows while being read is caught too.
    const buf = Buffer.allocUnsafe(Math.min(st.size, maxBytes) + 1);
    let got = 0;
    while (got < buf.length) {
      const n = fs.readSync(fd, buf, got, buf.length - got, null);
      if (n === 0) break;
      got += n;
    }
    if (got > maxBytes) throw new StateFileError(file, `is larger than ${maxBytes} bytes`);
    return buf.toString('utf8', 0, got);
  } finally {
    fs.closeSync(fd);
  }
}

/** Words for what a path is, for messages. */
export function kindOf(st: fs.Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isFile()) return 'a regular file';
  return 'not a regular file';
}

/**
 * Why `dir` (an existing path inside the state directory) is not a directory the daemon may use, or
 * undefined when it is one: a real directory (not a symlink) owned by this user.
 */
export function foreignDirReason(st: fs.Stats): string | undefined {
  if (st.isSymbolicLink()) return 'is a symbolic link (never followed)';
  if (!st.isDirectory()) return `is not a directory (${kindOf(st)})`;
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) return `belongs to uid ${st.uid}, not to the daemon's user (uid ${uid})`;
  return undefined;
}

/**
 * Creates `file` (0600) with `data`; it must not exist yet, and a symlink in its place is never
 * followed (O_EXCL|O_NOFOLLOW), so nothing planted in the state directory redirects the write.
 */
export function writeNewStateFile(file: string, data: string): void {
  const { O_WRONLY, O_CREAT, O_EXCL } = fs.constants;
  const fd = fs.openSync(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  try {
    fs.writeFileSync(fd, data);
  } finally {
    fs.closeSync(fd);
  }
}
