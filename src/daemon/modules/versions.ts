/**
 * Version numbers of modules, per name, for as long as the state directory lives. A number is never
 * handed out twice for one name: not after `unload_module` (the slot is new, the counter is not), and
 * not after a daemon restart (the highest number given is kept in `module-versions.json`), so a
 * caller that saw v7 never later sees a different v7, or a v1, of the same module.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.js';
import { RECORD_CAP_BYTES, readStateFile, writeNewStateFile } from '../state/files.js';

/** The file, in the state directory, holding the highest version number given per module name. */
export const VERSIONS_FILE = 'module-versions.json';

/** The per-name counters, read once at start and written through on every new version. */
export class ModuleVersions {
  private readonly last = new Map<string, number>();
  private readonly file: string;
  private seq = 0;

  constructor(
    home: string,
    private readonly log: Logger,
  ) {
    this.file = path.join(home, VERSIONS_FILE);
    try {
      const text = readStateFile(this.file, RECORD_CAP_BYTES);
      if (text === undefined) return;
      const data = JSON.parse(text) as unknown;
      if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new Error('is not a JSON object');
      for (const [name, n] of Object.entries(data as Record<string, unknown>)) {
        if (Number.isSafeInteger(n) && (n as number) > 0) this.last.set(name, n as number);
      }
    } catch (err) {
      // Damaged or planted: numbers restart from 1 for names it held (within this daemon's life they still only grow).
      log.warn(`${this.file}: ${err instanceof Error ? err.message : String(err)}; module version numbers start again from 1`);
    }
  }

  /** The next number for `name`: one more than any given before. Persisted at once (best effort). */
  next(name: string): number {
    const n = (this.last.get(name) ?? 0) + 1;
    this.last.set(name, n);
    this.save();
    return n;
  }

  private save(): void {
    const tmp = `${this.file}.${process.pid}.${++this.seq}.tmp`;
    try {
      writeNewStateFile(tmp, JSON.stringify(Object.fromEntries(this.last)) + '\n');
      fs.renameSync(tmp, this.file);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      // Disk full or read-only: the numbers still only grow while this daemon lives.
      this.log.warn(`cannot save module version numbers to ${this.file}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
