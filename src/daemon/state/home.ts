/**
 * The state directory holds records and output of other people's work, and their environment (API
 * keys): owner-only (0700), created if missing, repaired if too open, refused if someone else owns
 * it. It is resolved once (realpath) and every later path is built on that real path, so a symlink
 * swapped after start redirects nothing; and no directory above it may be writable by another user
 * (who could otherwise rename it away and put their own in its place), as OpenSSH's StrictModes asks.
 */
import fs from 'node:fs';
import path from 'node:path';
import { StartError } from '../socket-file.js';
import { foreignDirReason, kindOf } from './files.js';

/**
 * Creates or checks the state directory `requested` and returns its real path, which the daemon
 * uses from then on. Throws StartError (with what to do) for anything unsafe.
 */
export function prepareHome(requested: string): string {
  const abs = path.resolve(requested);
  // The deepest part that exists is resolved and checked before anything is created under it.
  const missing: string[] = [];
  let existing = abs;
  while (fs.lstatSync(existing, { throwIfNoEntry: false }) === undefined && path.dirname(existing) !== existing) {
    missing.unshift(path.basename(existing));
    existing = path.dirname(existing);
  }
  checkLinks(existing, abs);
  let real: string;
  try {
    real = fs.realpathSync(existing);
  } catch (err) {
    throw new StartError(`cannot resolve the state directory ${abs} (${(err as NodeJS.ErrnoException).code ?? String(err)}); choose another --home.`);
  }
  checkAncestors(missing.length > 0 ? real : path.dirname(real), abs);
  for (const [i, part] of missing.entries()) {
    real = path.join(real, part);
    try {
      fs.mkdirSync(real, { mode: 0o700 });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new StartError(`cannot create the state directory ${abs} (${code ?? String(err)} at ${real}); choose another --home.`);
    }
    if (i < missing.length - 1) checkDir(real, abs);
  }
  checkHome(real, abs);
  return real;
}

/**
 * A directory inside the state directory (`processes`, `corrupt`, ...): created 0700 if missing,
 * else it must be a real directory of ours. Returns its path.
 */
export function ensureStateSubdir(home: string, name: string): string {
  const dir = path.join(home, name);
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
    return dir;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST') throw new StartError(`cannot create ${dir} (${code ?? String(err)}); check the state directory or choose another --home.`);
  }
  const st = fs.lstatSync(dir);
  const why = foreignDirReason(st);
  if (why !== undefined) throw new StartError(`${dir} ${why}; the daemon keeps its state there and will not use it. Move it away, or choose another --home.`);
  if ((st.mode & 0o077) !== 0) fs.chmodSync(dir, 0o700);
  return dir;
}

function checkHome(real: string, shown: string): void {
  const st = fs.lstatSync(real);
  const label = real === shown ? real : `${shown} (really ${real})`;
  if (!st.isDirectory()) throw new StartError(`cannot create the state directory ${label}: it exists and is not a directory (${kindOf(st)}); choose another --home.`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new StartError(`state directory ${label} belongs to uid ${st.uid}, not to you (uid ${uid}); choose another --home.`);
  }
  if ((st.mode & 0o077) !== 0) fs.chmodSync(real, 0o700);
}

/**
 * Every symlink on the way to `p` (followed as the kernel would) belongs to us or root: the owner of
 * a link decides where it points, so another user's link would choose our state directory for us.
 */
function checkLinks(p: string, shown: string): void {
  const uid = process.getuid?.();
  if (uid === undefined) return;
  let todo = p.split(path.sep).filter(Boolean);
  let cur: string = path.sep;
  for (let hops = 0; todo.length > 0; ) {
    const next = path.join(cur, todo.shift()!);
    const st = fs.lstatSync(next, { throwIfNoEntry: false });
    if (st === undefined) return; // realpath reports it.
    if (!st.isSymbolicLink()) {
      cur = next;
      continue;
    }
    if (st.uid !== 0 && st.uid !== uid) {
      throw new StartError(`the state directory ${shown} is reached through the symbolic link ${next}, which belongs to uid ${st.uid}: that user decides where it points; give --home as a path without it.`);
    }
    if (++hops > 40) return; // A loop: realpath reports it.
    const target = fs.readlinkSync(next);
    todo = [...target.split(path.sep).filter(Boolean), ...todo];
    if (path.isAbsolute(target)) cur = path.sep;
  }
}

/** `dir` and every directory above it may be changed by no one but us and root. */
function checkAncestors(dir: string, shown: string): void {
  for (let d = dir; ; d = path.dirname(d)) {
    checkDir(d, shown);
    if (path.dirname(d) === d) return;
  }
}

/**
 * One directory on the way to the state directory: owned by root or us, and writable by no one else
 * (group-writable only for our own primary group; world-writable only with the sticky bit, as /tmp).
 */
function checkDir(d: string, shown: string): void {
  const st = fs.lstatSync(d);
  if (st.isSymbolicLink()) throw new StartError(`${d} (on the way to the state directory ${shown}) became a symbolic link while starting; choose another --home.`);
  const uid = process.getuid?.();
  if (uid === undefined) return;
  const fix = `choose a --home whose parent directories only you (or root) can change.`;
  if (st.uid !== 0 && st.uid !== uid) {
    throw new StartError(`the state directory ${shown} is under ${d}, which belongs to uid ${st.uid}: that user could replace it; ${fix}`);
  }
  const sticky = (st.mode & 0o1000) !== 0;
  if ((st.mode & 0o002) !== 0 && !sticky) throw new StartError(`the state directory ${shown} is under ${d}, which anyone may write (mode ${(st.mode & 0o7777).toString(8)}); ${fix}`);
  if ((st.mode & 0o020) !== 0 && !sticky && st.gid !== process.getgid?.()) {
    throw new StartError(`the state directory ${shown} is under ${d}, which group ${st.gid} may write (mode ${(st.mode & 0o7777).toString(8)}); ${fix}`);
  }
}
