/**
 * Where broken state goes: `corrupt/` in the state directory. A record the daemon cannot trust is
 * moved there (never deleted: it may be the only trace of someone's work, and a person may want to
 * look at it) under its name plus a timestamp, so its id is free again and the next start does not
 * trip on it twice.
 */
import fs from 'node:fs';
import path from 'node:path';
import { foreignDirReason } from './files.js';

/** The folder's name in the state directory. */
export const CORRUPT_DIR = 'corrupt';

/** Moves `target` (a path inside the state directory `home`) into `home/corrupt/`. */
export function quarantine(home: string, target: string): { ok: true; to: string } | { ok: false; error: string } {
  const dir = path.join(home, CORRUPT_DIR);
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return { ok: false, error: (err as NodeJS.ErrnoException).code ?? String(err) };
    const why = foreignDirReason(fs.lstatSync(dir));
    if (why !== undefined) return { ok: false, error: `${dir} ${why}` };
  }
  const to = path.join(dir, `${path.basename(target)}.${new Date().toISOString().replace(/[:.]/g, '-')}.${process.pid}`);
  try {
    fs.renameSync(target, to);
    return { ok: true, to };
  } catch (err) {
    return { ok: false, error: (err as NodeJS.ErrnoException).code ?? String(err) };
  }
}
