/**
 * Reading /proc: who is alive, who is whose parent, and each process's start time. The start time
 * (field 22 of /proc/PID/stat) together with the pid names a process uniquely, so a pid that was
 * reused by a stranger is never signalled or adopted as ours.
 */
import fs from 'node:fs';

/** One process as /proc/PID/stat shows it. */
export interface ProcStat {
  pid: number;
  ppid: number;
  /** Process group (field 5). */
  pgrp: number;
  state: string;
  /** Clock ticks since boot at which the process started. */
  start: number;
  /** Number of threads (field 20): a single-threaded process has one children list to read. */
  threads: number;
}

/** Parses /proc/PID/stat; the command name may hold spaces and parentheses, so split after the last ')'. */
export function parseStat(pid: number, text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const f = text.slice(close + 2).split(' ');
  // f[0] is field 3 (state), f[1] field 4 (ppid), f[17] field 20 (num_threads), f[19] field 22 (starttime).
  const state = f[0];
  const ppid = Number(f[1]);
  const pgrp = Number(f[2]);
  const threads = Number(f[17]);
  const start = Number(f[19]);
  if (state === undefined || !Number.isFinite(ppid) || !Number.isFinite(start)) return undefined;
  return { pid, ppid, pgrp, state, start, threads: Number.isInteger(threads) && threads > 0 ? threads : 0 };
}

/** One buffer for every small /proc read: open, one read, close (readFileSync adds an fstat and a read to find the end). */
const procBuf = Buffer.allocUnsafe(4096);

/** A small /proc file's text (at most 4 KiB, all a stat or children line holds), or undefined if unreadable. */
export function readProc(file: string): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const n = fs.readSync(fd, procBuf, 0, procBuf.length, null);
    if (n < procBuf.length) return procBuf.toString('latin1', 0, n);
    // Longer than the buffer (a children list of hundreds of pids): read it whole.
    return procBuf.toString('latin1', 0, n) + fs.readFileSync(fd, 'latin1');
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/** The stat of one pid, or undefined when it does not exist. */
export function readStat(pid: number): ProcStat | undefined {
  const text = readProc(`/proc/${pid}/stat`);
  return text === undefined ? undefined : parseStat(pid, text);
}

/**
 * True when `pid` is the very process that started at `start` and has not ended. A zombie counts as
 * ended: pid 1 here reaps orphans lazily, so a dead process can linger in state Z.
 */
export function isAlive(pid: number, start: number): boolean {
  const st = readStat(pid);
  return st !== undefined && st.start === start && st.state !== 'Z' && st.state !== 'X';
}

/**
 * Like isAlive, but `unknown` when /proc could not be read for want of a descriptor (EMFILE,
 * ENFILE): a process must not be declared ended because the daemon is short of files.
 */
export function liveness(pid: number, start: number): 'alive' | 'dead' | 'unknown' {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'EMFILE' || code === 'ENFILE' || code === 'ENOMEM' ? 'unknown' : 'dead';
  }
  const st = parseStat(pid, text);
  return st !== undefined && st.start === start && st.state !== 'Z' && st.state !== 'X' ? 'alive' : 'dead';
}

/** Every process on the machine, by pid, plus a parent-to-children index. */
export interface ProcSnapshot {
  byPid: Map<number, ProcStat>;
  children: Map<number, number[]>;
}

let cached: { at: number; snap: ProcSnapshot } | undefined;
/** Kills that arrive together (a batch of kill_process) share one scan; a later step rescans. */
const SNAPSHOT_TTL_MS = 5;

/** Scans /proc once (or reuses a scan a few milliseconds old). */
export function snapshot(): ProcSnapshot {
  const now = performance.now();
  if (cached !== undefined && now - cached.at < SNAPSHOT_TTL_MS) return cached.snap;
  const byPid = new Map<number, ProcStat>();
  const children = new Map<number, number[]>();
  let names: string[];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    names = [];
  }
  for (const name of names) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const pid = Number(name);
    const st = readStat(pid);
    if (st === undefined) continue;
    byPid.set(pid, st);
    const list = children.get(st.ppid);
    if (list === undefined) children.set(st.ppid, [pid]);
    else list.push(pid);
  }
  const snap = { byPid, children };
  cached = { at: now, snap };
  return snap;
}

/** Every descendant of `root` (not `root` itself) in the snapshot, following parent links. */
export function descendants(snap: ProcSnapshot, root: number): ProcStat[] {
  const out: ProcStat[] = [];
  const stack = [...(snap.children.get(root) ?? [])];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    const st = snap.byPid.get(pid);
    if (st === undefined) continue;
    out.push(st);
    for (const c of snap.children.get(pid) ?? []) stack.push(c);
  }
  return out;
}

let childrenFileWorks: boolean | undefined;

/**
 * Descendants of `root` read through /proc/PID/task/TID/children (every thread's list), touching
 * only the tree itself rather than every process on the machine: a kill of 100 processes at once
 * then costs a few reads each instead of 100 full /proc scans. A process known to have one thread
 * (from its stat; `rootThreads` for the root, e.g. 1 for the wrapper, a single-threaded C program)
 * has one list, read without listing its tasks. Falls back to a full scan where the kernel lacks
 * that file (CONFIG_PROC_CHILDREN).
 */
export function treeOf(root: number, rootThreads = 0): ProcStat[] {
  if (childrenFileWorks === false) return descendants(snapshot(), root);
  const out: ProcStat[] = [];
  const stack: Array<[number, number]> = [[root, rootThreads]];
  const seen = new Set<number>([root]);
  while (stack.length > 0) {
    const [pid, threads] = stack.pop()!;
    let tids: string[];
    if (threads === 1) {
      tids = [String(pid)];
    } else {
      try {
        tids = fs.readdirSync(`/proc/${pid}/task`);
      } catch {
        continue; // gone
      }
    }
    for (const tid of tids) {
      const text = readProc(`/proc/${pid}/task/${tid}/children`);
      if (text === undefined) {
        if (childrenFileWorks === undefined && fs.existsSync(`/proc/${pid}/task/${tid}`)) {
          childrenFileWorks = false;
          return descendants(snapshot(), root);
        }
        continue;
      }
      childrenFileWorks = true;
      for (const part of text.split(' ')) {
        if (part === '' || part === '\n') continue;
        const child = Number(part);
        if (!Number.isInteger(child) || seen.has(child)) continue;
        seen.add(child);
        const st = readStat(child);
        if (st === undefined) continue;
        out.push(st);
        stack.push([child, st.threads]);
      }
    }
  }
  return out;
}

/**
 * True when a wrapper process for the state directory `dir` exists (found by its command line). Only
 * used at restore, for a process whose launch the previous daemon did not live to see through.
 */
export function wrapperFor(dir: string): boolean {
  let names: string[];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return false;
  }
  for (const name of names) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const args = cmdline(Number(name));
    if (args[0]?.endsWith('claude-daemon-wrap') && args[1] === dir) return true;
  }
  return false;
}

/** A process's argv from /proc ([] when it is gone or unreadable). */
export function cmdline(pid: number): string[] {
  try {
    const parts = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (parts.at(-1) === '') parts.pop();
    return parts;
  } catch {
    return [];
  }
}
