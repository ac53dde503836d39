/**
 * Records on disk: one directory per process under `<home>/processes/<id>/` holding record.json,
 * stdout, stderr, stdin (when given) and exit (written by the wrapper). record.json is replaced
 * atomically (write a temporary file, then rename), so a crash mid-write leaves the previous
 * version intact and a reader never sees half a record. No fsync: we guard against the daemon
 * dying, not the machine losing power.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ProcessRecord } from '../../protocol/schemas/processes.js';
import { RECORD_CAP_BYTES, readStateFile, SMALL_FILE_CAP_BYTES, StateFileError, foreignDirReason } from '../state/files.js';
import { quarantine } from '../state/quarantine.js';
import { parseStored } from './stored-schema.js';

/** What the daemon keeps beside the wire record to re-adopt, restart or requeue a process. */
export interface StoredProcess {
  version: 1;
  record: ProcessRecord;
  /** Order of creation, so queued processes start in order after a restart. */
  seq: number;
  /** Environment overrides (kept for queued processes, which start later). */
  env: Record<string, string> | null;
  has_stdin: boolean;
  /** A live claude session: stdin is the FIFO DIR/stdin the wrapper holds open (absent: false). */
  stdin_fifo?: boolean;
  wrapper_pid: number | null;
  wrapper_start: number | null;
  pid_start: number | null;
  /**
   * The machine's boot id when the command started (state/boot.ts): pids and start times mean
   * nothing across a reboot. Absent in records written before it was stored.
   */
  boot_id?: string | null;
}

/** The outcome the wrapper wrote into `exit`. */
export interface ExitFile {
  exit_code: number | null;
  signal: number | null;
  ended_at_ms: number;
}

/** The wrapper's `started` line: who to re-adopt when the daemon died before persisting the pid. */
export interface StartedFile {
  pid: number;
  pidStart: number;
  wrapperStart: number;
  wrapperPid: number;
}

/** Reads `started` (written by the wrapper once the command runs), or undefined. */
export async function readStarted(pd: ProcessDir): Promise<StartedFile | undefined> {
  try {
    const f = (readStateFile(path.join(pd.dir, 'started'), SMALL_FILE_CAP_BYTES) ?? '').trim().split(' ');
    const [pid, pidStart, wrapperStart, wrapperPid] = f.slice(1).map(Number);
    if (f[0] !== 'ok' || !pid || !pidStart || !wrapperStart || !wrapperPid) return undefined;
    return { pid, pidStart, wrapperStart, wrapperPid };
  } catch {
    return undefined;
  }
}

/**
 * Where removals move a process directory before deleting it (beside `root`, never inside it: any
 * name inside is a valid process id). The rename is atomic, so a daemon killed mid-removal leaves
 * either the whole directory or none of it; the next start empties the trash.
 */
export function trashDir(root: string): string {
  return `${root}-trash`;
}

/**
 * Paths of one process's files. Given the root and the process id (both strings the daemon holds
 * anyway), the directory's path is joined when asked for, not kept: one string less per record.
 */
export class ProcessDir {
  /** `new ProcessDir(dir)`, or `new ProcessDir(root, id)` for `root/id`. */
  constructor(
    private readonly base: string,
    private readonly name?: string,
  ) {}
  /** The process's directory. */
  get dir(): string {
    return this.name === undefined ? this.base : path.join(this.base, this.name);
  }
  get record(): string {
    return path.join(this.dir, 'record.json');
  }
  get exit(): string {
    return path.join(this.dir, 'exit');
  }
  get stdin(): string {
    return path.join(this.dir, 'stdin');
  }
  /** The captured output file of a stream. */
  output(stream: 'stdout' | 'stderr'): string {
    return path.join(this.dir, stream);
  }
}

/**
 * Writes record.json atomically (temporary file, then rename). Throws the file system's error (e.g.
 * ENOSPC, EMFILE) when it cannot; the temporary file is then removed, so a failed write leaves the
 * previous record as it was and no partial file taking space.
 */
export function writeStored(pd: ProcessDir, stored: StoredProcess): void {
  const tmp = `${pd.record}.tmp`;
  const text = JSON.stringify(stored);
  try {
    try {
      fs.writeFileSync(tmp, text, { mode: 0o600 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // The wrapper creates the directory; if it never ran (missing, failed early), make it here.
      fs.mkdirSync(pd.dir, { recursive: true, mode: 0o700 });
      fs.writeFileSync(tmp, text, { mode: 0o600 });
    }
    fs.renameSync(tmp, pd.record);
  } catch (err) {
    try {
      fs.unlinkSync(tmp);
    } catch {
      // Never created.
    }
    throw err;
  }
}

/** What reading the exit file found: the outcome, nothing (none written), or a failure to retry. */
export type ExitRead = { exit: ExitFile } | { none: true } | { retry: NodeJS.ErrnoException };

/**
 * Like readExit, but tells "no exit file" from "could not read it now" (EMFILE, EIO...): the
 * latter is not an unknown outcome, just one to read again later.
 */
export function readExitChecked(pd: ProcessDir): ExitRead {
  let text: string | undefined;
  try {
    text = readStateFile(pd.exit, SMALL_FILE_CAP_BYTES);
  } catch (err) {
    const code = err instanceof StateFileError ? err.code : (err as NodeJS.ErrnoException).code;
    // A symlink, a FIFO or an oversized file is no exit record; a failed open or read is a late one.
    if (code === undefined || code === 'ENOTDIR') return { none: true };
    return { retry: Object.assign(new Error((err as Error).message), { code }) };
  }
  if (text === undefined) return { none: true };
  const v = parseExit(text);
  return v !== undefined ? { exit: v } : { none: true };
}

/** An exit file's text as an ExitFile, or undefined when it is not one. */
function parseExit(text: string): ExitFile | undefined {
  try {
    const v = JSON.parse(text) as Partial<ExitFile> | null;
    const intOrNull = (x: unknown): x is number | null => x === null || Number.isInteger(x);
    return v !== null && typeof v.ended_at_ms === 'number' && intOrNull(v.exit_code) && intOrNull(v.signal) ? (v as ExitFile) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads the wrapper's exit file, or undefined if none was written. Synchronous on purpose: it is a
 * tiny file read once per process end, and three thread-pool round trips (open, read, close) made
 * ending 100 processes at once several times slower under load.
 */
export function readExit(pd: ProcessDir): ExitFile | undefined {
  const r = readExitChecked(pd);
  return 'exit' in r ? r.exit : undefined;
}

/**
 * Loads every stored record under `root` (the state directory's `processes`). Each is read safely
 * (state/files.ts) and validated with the record schema; anything that fails (a wrong-typed field, a
 * FIFO, a symlink, a directory someone else owns) is moved to the state directory's `corrupt/`
 * with a log line naming the file and the reason, and never stops the start. Directories with no
 * record.json at all are returned in `orphans` (see recover.ts: the daemon died mid-spawn).
 */
export function loadAll(root: string, warn: (msg: string) => void): { stored: StoredProcess[]; orphans: string[] } {
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return { stored: [], orphans: [] };
  }
  const out: StoredProcess[] = [];
  const orphans: string[] = [];
  const reject = (target: string, what: string, reason: string): void => {
    const moved = quarantine(path.dirname(root), target);
    warn(`ignoring ${what}: ${reason}; ${moved.ok ? `moved ${target} to ${moved.to}` : `left in place (cannot move it: ${moved.error})`}`);
  };
  for (const name of names) {
    const dir = path.join(root, name);
    const st = fs.lstatSync(dir, { throwIfNoEntry: false });
    if (st === undefined) continue;
    const foreign = foreignDirReason(st);
    if (foreign !== undefined) {
      reject(dir, dir, foreign);
      continue;
    }
    const file = path.join(dir, 'record.json');
    try {
      const text = readStateFile(file, RECORD_CAP_BYTES);
      if (text === undefined) {
        orphans.push(name);
        continue;
      }
      const v = parseStored(text, name);
      if (v instanceof Error) reject(dir, file, v.message);
      else out.push(v);
    } catch (err) {
      reject(dir, file, err instanceof StateFileError ? err.reason : String(err));
    }
  }
  return { stored: out.sort((a, b) => a.seq - b.seq), orphans };
}

/** Current size of a file, 0 when it does not exist yet. */
export function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * Reads record.json back (a slim record, entry.ts), or undefined when it cannot be read or
 * is not a valid record of `id` (the caller then falls back to what it kept in memory).
 */
export function readStoredText(pd: ProcessDir, id: string): StoredProcess | undefined {
  try {
    const text = readStateFile(pd.record, RECORD_CAP_BYTES);
    if (text === undefined) return undefined;
    // Validated when it was loaded or written by this daemon; checked only for being this record
    // (a full schema check per record made a list of 1,000 such records take 200 ms).
    const v = JSON.parse(text) as StoredProcess | null;
    return v !== null && typeof v === 'object' && v.record?.process_id === id && typeof v.record.status === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}
