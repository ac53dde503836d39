/** Small helpers shared by the module tests: writing module files the ways editors do. */
import fs from 'node:fs';
import path from 'node:path';
import { DaemonError } from '../../src/index.js';

/** Writes a module file in place (truncate and write). */
export function writeInPlace(dir: string, file: string, text: string): string {
  const p = path.join(dir, file);
  fs.writeFileSync(p, text);
  return p;
}

let n = 0;
/** Writes to a temp file beside it and renames it over the module (vim, VS Code, most tools). */
export function writeAtomic(dir: string, file: string, text: string): string {
  const p = path.join(dir, file);
  const tmp = path.join(path.dirname(p), `.${path.basename(p)}.${process.pid}.${++n}.tmp`);
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, p);
  return p;
}

/** Resolves with the DaemonError a promise rejects with; fails if it resolves. */
export async function daemonError(p: Promise<unknown>): Promise<DaemonError> {
  try {
    const v = await p;
    throw new Error(`expected a daemon error, got ${JSON.stringify(v)}`);
  } catch (err) {
    if (err instanceof DaemonError) return err;
    throw err;
  }
}
