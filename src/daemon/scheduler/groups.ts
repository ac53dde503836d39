/**
 * The groups' settings (`parallel`, `paused`, `budget_usd`, and `spent_removed_usd`), persisted in `groups.json` in the state directory so
 * they survive a restart or a SIGKILL: every change is written (atomically: a new file renamed over
 * the old) before `group_set` replies. A file the daemon cannot read or trust is quarantined and
 * the defaults apply, like a broken record.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { GroupName } from '../../protocol/schemas/scheduling.js';
import { ioCommandError } from '../io-error.js';
import { randomHex } from '../lazy-crypto.js';
import type { Logger } from '../log.js';
import { readStateFile, SMALL_FILE_CAP_BYTES, writeNewStateFile } from '../state/files.js';
import { quarantine } from '../state/quarantine.js';

/** One group's settings; a group nobody configured has the defaults (unlimited, running). */
export interface GroupSettings {
  parallel: number;
  paused: boolean;
  /** Spending budget in dollars for the group's claude runs (budget.ts); null for none. */
  budget_usd: number | null;
  /** What the group's removed records had spent (budget.ts): `clean` does not reset a budget. */
  spent_removed_usd: number;
}

/** The settings of a group never configured. */
export const DEFAULT_SETTINGS: Readonly<GroupSettings> = { parallel: 0, paused: false, budget_usd: null, spent_removed_usd: 0 };

const FileSchema = z.object({
  version: z.literal(1),
  groups: z.record(
    GroupName,
    z.object({
      parallel: z.number().int().nonnegative(),
      paused: z.boolean(),
      // Absent in files from before budgets.
      budget_usd: z.number().nonnegative().nullable().default(null),
      spent_removed_usd: z.number().nonnegative().default(0),
    }),
  ),
});

/** The file's name in the state directory. */
export const GROUPS_FILE = 'groups.json';

/** Settings by group name, backed by `groups.json` (or memory only, without a home). */
export class GroupStore {
  private readonly settings = new Map<string, GroupSettings>();

  constructor(
    private readonly home: string | undefined,
    private readonly log: Logger,
  ) {
    if (home !== undefined) this.load(path.join(home, GROUPS_FILE));
  }

  get(group: string): Readonly<GroupSettings> {
    return this.settings.get(group) ?? DEFAULT_SETTINGS;
  }

  /** Configured group names. */
  names(): IterableIterator<string> {
    return this.settings.keys();
  }

  /** Applies a change and writes the file; on a failed write nothing changes (STATE_IO_FAILED / STORAGE_FULL). */
  set(group: string, change: Partial<GroupSettings>): GroupSettings {
    const before = this.settings.get(group);
    const next = { ...(before ?? DEFAULT_SETTINGS), ...change };
    this.settings.set(group, next);
    try {
      this.save();
    } catch (err) {
      if (before === undefined) this.settings.delete(group);
      else this.settings.set(group, before);
      throw ioCommandError(err, `cannot write ${GROUPS_FILE}`, 'the group was not changed') ?? err;
    }
    return next;
  }

  private load(file: string): void {
    let text: string | undefined;
    try {
      text = readStateFile(file, SMALL_FILE_CAP_BYTES);
      if (text === undefined) return;
      const parsed = FileSchema.parse(JSON.parse(text));
      for (const [name, s] of Object.entries(parsed.groups)) this.settings.set(name, s);
    } catch (err) {
      const q = this.home !== undefined ? quarantine(this.home, file) : { ok: false as const, error: 'no home' };
      this.log.warn(`${file} cannot be used (${(err as Error).message.split('\n')[0]}); ${q.ok ? `moved to ${q.to}` : `not moved (${q.error})`}; groups start with default settings`);
    }
  }

  private save(): void {
    if (this.home === undefined) return;
    const file = path.join(this.home, GROUPS_FILE);
    const tmp = `${file}.${randomHex(4)}.tmp`;
    const data = JSON.stringify({ version: 1, groups: Object.fromEntries(this.settings) }, null, 1);
    try {
      writeNewStateFile(tmp, data);
      fs.renameSync(tmp, file);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      throw err;
    }
  }
}
