/**
 * File-system failures as wire errors. A full disk or an exhausted descriptor table is the
 * machine's state, not a daemon bug: each becomes its own stable code with a message naming what
 * could not be done and what to do, instead of INTERNAL_ERROR.
 */
import type { ErrorCode } from '../protocol/errors.js';
import { CommandError } from './command-error.js';

/** errno names meaning "no space": the state directory's file system is full or over quota. */
const FULL = new Set(['ENOSPC', 'EDQUOT']);
/** errno names meaning "no descriptor": the process's or the system's table is full. */
const NO_FD = new Set(['EMFILE', 'ENFILE']);
/** Other I/O failures of the state directory (a broken disk, a read-only remount, permissions). */
const IO = new Set(['EIO', 'EROFS', 'EACCES', 'EPERM', 'ENOTDIR', 'EISDIR', 'ELOOP', 'ENXIO', 'EFBIG', 'ESTALE']);

/** The errno name of an error thrown by node:fs (or a LaunchError carrying one), else undefined. */
export function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The wire code for a file-system error, or undefined when it is not one of the known kinds. */
export function ioErrorCode(err: unknown): ErrorCode | undefined {
  const code = errnoOf(err);
  if (code === undefined) return undefined;
  if (FULL.has(code)) return 'STORAGE_FULL';
  if (NO_FD.has(code)) return 'RESOURCE_EXHAUSTED';
  if (IO.has(code)) return 'STATE_IO_FAILED';
  return undefined;
}

/** True for failures that pass by themselves (descriptors free up, space is freed): retry later. */
export function isTransient(err: unknown): boolean {
  const code = errnoOf(err);
  return code !== undefined && (FULL.has(code) || NO_FD.has(code) || code === 'EIO' || code === 'EAGAIN' || code === 'ENOMEM');
}

/**
 * A CommandError for `err` when it is a known file-system failure, else undefined. `what` says
 * what could not be done ("cannot write the record of process p-1"); `after` what became of it.
 */
export function ioCommandError(err: unknown, what: string, after = ''): CommandError | undefined {
  const code = ioErrorCode(err);
  if (code === undefined) return undefined;
  const reason = (err as Error).message;
  const advice =
    code === 'STORAGE_FULL' ? 'free space on the file system of the state directory and retry'
    : code === 'RESOURCE_EXHAUSTED' ? 'the daemon is out of file descriptors (too many connections or open files); close some and retry'
    : 'check the state directory and its file system';
  return new CommandError(code, `${what}: ${reason}${after ? `; ${after}` : ''}; ${advice}`);
}
