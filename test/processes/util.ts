/** Helpers shared by the process tests: waiting for a fixture to say "ready", probing pids. */
import fs from 'node:fs';
import path from 'node:path';
import type { DaemonClient } from '../../src/index.js';
import { FIXTURES } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

/** Absolute path of a fixture script. */
export const fx = (name: string): string => path.join(FIXTURES, name);

/** Waits until the process's stdout contains `text`. */
export async function waitOutput(c: DaemonClient, id: string, text = 'ready', stream: 'stdout' | 'stderr' = 'stdout'): Promise<void> {
  await waitFor(async () => (await c.readOutput({ process_id: id, stream })).data.includes(text), { what: `${id} to print ${text}` });
}

/** True when `pid` exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Number of open descriptors of `pid`. */
export function fdCount(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** Reads a pid the fixture wrote to `file`. */
export async function pidFrom(file: string): Promise<number> {
  return waitFor(() => {
    const s = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : '';
    return s === '' ? undefined : Number(s);
  }, { what: `pid in ${file}` });
}
