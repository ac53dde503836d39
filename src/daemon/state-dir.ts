/**
 * The state directory holds records and output of other people's work: owner-only (0700), created if
 * missing, repaired if too open, refused if someone else owns it.
 */
import fs from 'node:fs';
import { StartError } from './socket-file.js';

/** Creates `dir` (0700) or checks an existing one: ours, and not readable by others. */
export function ensurePrivateDir(dir: string): void {
  let st: fs.Stats;
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    st = fs.statSync(dir);
  } catch (err) {
    throw new StartError(`cannot create the state directory ${dir} (${(err as NodeJS.ErrnoException).code ?? String(err)}); choose another --home.`);
  }
  if (!st.isDirectory()) throw new StartError(`${dir} is not a directory; choose another --home.`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new StartError(`state directory ${dir} belongs to uid ${st.uid}, not to you (uid ${uid}); choose another --home.`);
  }
  if ((st.mode & 0o077) !== 0) fs.chmodSync(dir, 0o700);
}
