/**
 * Append-only state files (the event journal's segments): opened for appending without following a
 * symlink (O_NOFOLLOW) and without blocking on a planted FIFO (O_NONBLOCK), and refused unless the
 * result is a regular file of ours, like every other file the daemon opens in the state directory.
 */
import fs from 'node:fs';
import { kindOf, StateFileError } from './files.js';

const { O_WRONLY, O_APPEND, O_CREAT, O_NOFOLLOW, O_NONBLOCK } = fs.constants;

/** Opens (creating, 0600) `file` for appending; throws StateFileError for anything but a regular file of ours. */
export function openAppendStateFile(file: string): number {
  let fd: number;
  try {
    fd = fs.openSync(file, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new StateFileError(file, 'is a symbolic link (state files are never followed)');
    throw new StateFileError(file, `cannot be opened for appending (${code ?? String(err)})`, code);
  }
  const st = fs.fstatSync(fd);
  const uid = process.getuid?.();
  const why = !st.isFile() ? `is not a regular file (${kindOf(st)})` : uid !== undefined && st.uid !== uid ? `belongs to uid ${st.uid}, not to the daemon's user` : undefined;
  if (why !== undefined) {
    fs.closeSync(fd);
    throw new StateFileError(file, why);
  }
  return fd;
}

/** Appends all of `data` to `fd` (a regular file: short writes only on a full disk, which throw). */
export function appendAll(fd: number, data: string): void {
  const buf = Buffer.from(data);
  let off = 0;
  while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
}
