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
  state: string;
  /** Clock ticks since boot at which the process started. */
  start: number;
}

/** Parses /proc/PID/stat; the command name may hold spaces and parentheses, so split after the last ')'. */
export function parseStat(pid: number, text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const f = text.slice(close + 2).split(' ');
  // f[0] is field 3 (state), f[1] field 4 (ppid), f[19] field 22 (starttime).
  const state = f[0];
  const ppid = Number(f[1]);
  const start = Number(f[19]);
  if (state === undefined || !Number.isFinite(ppid) || !Number.isFinite(start)) return undefined;
  return { pid, ppid, state, start };
}

/** The stat of one pid, or undefined when it does not exist. */
export function readStat(pid: number): ProcStat | undefined {
  try {
    return parseStat(pid, fs.readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return undefined;
  }
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
 * then costs a few reads each instead of 100 full /proc scans. Falls back to a full scan where the
 * kernel lacks that file (CONFIG_PROC_CHILDREN).
 */
export function treeOf(root: number): ProcStat[] {
  if (childrenFileWorks === false) return descendants(snapshot(), root);
  const out: ProcStat[] = [];
  const stack = [root];
  const seen = new Set<number>([root]);
  while (stack.length > 0) {
    const pid = stack.pop()!;
    let tids: string[];
    try {
      tids = fs.readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // gone
    }
    for (const tid of tids) {
      let text: string;
      try {
        text = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1');
        childrenFileWorks = true;
      } catch (err) {
        if (childrenFileWorks === undefined && (err as NodeJS.ErrnoException).code === 'ENOENT' && fs.existsSync(`/proc/${pid}/task/${tid}`)) {
          childrenFileWorks = false;
          return descendants(snapshot(), root);
        }
        continue;
      }
      for (const part of text.split(' ')) {
        if (part === '' || part === '\n') continue;
        const child = Number(part);
        if (!Number.isInteger(child) || seen.has(child)) continue;
        seen.add(child);
        const st = readStat(child);
        if (st === undefined) continue;
        out.push(st);
        stack.push(child);
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
