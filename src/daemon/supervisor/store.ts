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

/** What the daemon keeps beside the wire record to re-adopt, restart or requeue a process. */
export interface StoredProcess {
  version: 1;
  record: ProcessRecord;
  /** Order of creation, so queued processes start in order after a restart. */
  seq: number;
  /** Environment overrides (kept for queued processes, which start later). */
  env: Record<string, string> | null;
  has_stdin: boolean;
  wrapper_pid: number | null;
  wrapper_start: number | null;
  pid_start: number | null;
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
    const f = (await fs.promises.readFile(path.join(pd.dir, 'started'), 'latin1')).trim().split(' ');
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

/** Paths of one process's files. */
export class ProcessDir {
  constructor(readonly dir: string) {}
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

/** Writes record.json atomically (temporary file, then rename). */
export function writeStored(pd: ProcessDir, stored: StoredProcess): void {
  const tmp = `${pd.record}.tmp`;
  const text = JSON.stringify(stored);
  try {
    fs.writeFileSync(tmp, text, { mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    // The wrapper creates the directory; if it never ran (missing, failed early), make it here.
    fs.mkdirSync(pd.dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(tmp, text, { mode: 0o600 });
  }
  fs.renameSync(tmp, pd.record);
}

/**
 * Reads the wrapper's exit file, or undefined if none was written. Synchronous on purpose: it is a
 * tiny file read once per process end, and three thread-pool round trips (open, read, close) made
 * ending 100 processes at once several times slower under load.
 */
export function readExit(pd: ProcessDir): ExitFile | undefined {
  try {
    const v = JSON.parse(fs.readFileSync(pd.exit, 'utf8')) as ExitFile;
    return typeof v.ended_at_ms === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Loads every stored record under `root`; unreadable ones are reported, not fatal. Directories with
 * no record.json at all are returned in `orphans` (see recover.ts: the daemon died mid-spawn).
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
  for (const name of names) {
    const file = path.join(root, name, 'record.json');
    try {
      const v = JSON.parse(fs.readFileSync(file, 'utf8')) as StoredProcess;
      if (v.version !== 1 || v.record?.process_id !== name) throw new Error('unexpected shape');
      out.push(v);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') orphans.push(name);
      else warn(`ignoring ${file}: ${(err as Error).message}`);
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
