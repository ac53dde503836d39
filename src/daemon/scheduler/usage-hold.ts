/**
 * The usage-limit hold: when a claude run ends because the account hit its usage limit, no queued
 * claude run starts until the limit resets (plus jitter), and then they start ramped (1 at a time,
 * then 2, 4, ... as runs succeed) instead of all at once. One account per daemon: every claude run
 * (a record with a `claude` object) counts, whatever its HOME or environment. Non-claude records
 * are never held. The state lives in `usage-hold.json` in the state directory (written on every
 * change), so a SIGKILLed daemon comes back holding until the same time; a broken file is
 * quarantined and the daemon starts without a hold.
 *
 * Events (the hook point for the events journal): `held` (a hold began or was extended) and
 * `released` (it ended); `changed` after every change the scheduler must look at.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { randomHex } from '../lazy-crypto.js';
import type { Logger } from '../log.js';
import { readStateFile, SMALL_FILE_CAP_BYTES, writeNewStateFile } from '../state/files.js';
import { quarantine } from '../state/quarantine.js';

/** The file's name in the state directory. */
export const USAGE_HOLD_FILE = 'usage-hold.json';
/** Backoff of a limit without a reset time: 60 s, doubling per limit hit in a row, at most 1 h. */
const BACKOFF_BASE_MS = 60_000;
const BACKOFF_MAX_MS = 3_600_000;
/** The ramp ends (no more limit on claude runs) once this many may run at once. */
const RAMP_END = 64;

const FileSchema = z.object({
  version: z.literal(1),
  until: z.number().nullable(),
  limit_type: z.string().nullable(),
  cause: z.enum(['usage_limit', 'utilization']),
  streak: z.number().int().nonnegative(),
  ramp: z.number().int().positive().nullable(),
});

/** What `ping` reports (null fields when not held). */
export interface HoldInfo {
  /** "claude runs held until 20:44 UTC (five_hour limit)", or the ramp; null when nothing holds claude runs. */
  reason: string | null;
  /** The hold's end (ISO 8601); null when not held. */
  until: string | null;
  limit_type: string | null;
  cause: 'usage_limit' | 'utilization' | null;
  /** While ramping up after a hold: how many claude runs may run at once; null when not ramping. */
  ramp: number | null;
}

/** See the file comment; one per daemon (the scheduler's gate). */
export class UsageHold extends EventEmitter<{ held: [HoldInfo]; released: [HoldInfo]; changed: [] }> {
  private until: number | null = null;
  private limitType: string | null = null;
  private cause: 'usage_limit' | 'utilization' = 'usage_limit';
  /** Limits without a reset time in a row (their backoff doubles). */
  private streak = 0;
  /** Claude runs allowed at once while ramping up; Infinity when not ramping. */
  private ramp = Infinity;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly home: string | undefined,
    private readonly log: Logger,
    /** Stop starting claude runs once the reported utilisation reaches this (0-1); undefined: never. */
    readonly holdAtUtilization?: number,
  ) {
    super();
    if (home !== undefined) this.load(path.join(home, USAGE_HOLD_FILE));
    this.arm();
  }

  /** True while no claude run may start because of the hold itself (not the ramp). */
  get active(): boolean {
    return this.until !== null && this.until > Date.now();
  }

  /** True when one more claude run may start, `claudeActive` running or about to. */
  admits(claudeActive: number): boolean {
    return !this.active && claudeActive < this.ramp;
  }

  /** A run ended at the usage limit: hold until `resetsAt` (epoch s; null: backoff) plus jitter. */
  hit(resetsAt: number | null, limitType: string | null): void {
    const now = Date.now();
    let until: number;
    if (resetsAt !== null && resetsAt * 1000 > now) {
      until = resetsAt * 1000;
      this.streak = 0;
    } else {
      until = now + Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** this.streak);
      this.streak++;
    }
    // Jitter: up to 10% of the wait (at least 0.2 s, at most 30 s), so many daemons sharing an
    // account do not all ask again at the same instant.
    until += Math.round(Math.random() * Math.min(30_000, Math.max(200, (until - now) * 0.1)));
    this.set(until, limitType, 'usage_limit');
  }

  /** The latest `rate_limit` a run reported: holds at `holdAtUtilization` until its reset. */
  noteUtilization(rl: { utilization?: number | null; resets_at?: number | null; limit_type?: string | null } | null | undefined): void {
    if (this.holdAtUtilization === undefined || rl == null || rl.utilization == null || rl.resets_at == null) return;
    if (rl.utilization < this.holdAtUtilization || rl.resets_at * 1000 <= Date.now()) return;
    this.set(rl.resets_at * 1000, rl.limit_type ?? null, 'utilization');
  }

  /** A claude run ended without hitting the limit: the ramp widens (1, 2, 4, ... then no limit). */
  succeeded(): void {
    this.streak = 0;
    if (this.ramp === Infinity || this.active) return;
    this.ramp = this.ramp * 2 >= RAMP_END ? Infinity : this.ramp * 2;
    this.save();
    this.emit('changed');
  }

  /** For `ping`, held reasons and `group_list`. */
  info(): HoldInfo {
    const active = this.active;
    return {
      reason: this.reason(),
      until: active ? new Date(this.until!).toISOString() : null,
      limit_type: active ? this.limitType : null,
      cause: active ? this.cause : null,
      ramp: !active && this.ramp !== Infinity ? this.ramp : null,
    };
  }

  /** Why claude runs do not start now, or null. */
  reason(claudeActive?: number): string | null {
    if (this.active) {
      const d = new Date(this.until!);
      const hhmm = `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
      const day = d.getTime() - Date.now() > 20 * 3600_000 ? ` on ${d.toISOString().slice(0, 10)}` : '';
      const what = this.cause === 'utilization' ? `${this.limitType ?? 'usage'} utilisation at or above hold_at_utilization ${this.holdAtUtilization}` : `${this.limitType ?? 'usage'} limit`;
      return `claude runs held until ${hhmm} UTC${day} (${what})`;
    }
    if (this.ramp !== Infinity) return `claude runs ramping up after a usage limit (at most ${this.ramp} at once${claudeActive !== undefined ? `, ${claudeActive} running` : ''})`;
    return null;
  }

  /** Stops the timer (daemon stop). */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private set(until: number, limitType: string | null, cause: 'usage_limit' | 'utilization'): void {
    if (this.active && this.until! >= until) return; // already held at least as long
    this.until = until;
    this.limitType = limitType;
    this.cause = cause;
    this.ramp = 1;
    this.save();
    this.arm();
    const info = this.info();
    this.log.info(`usage hold: ${info.reason}`);
    this.emit('held', info);
    this.emit('changed');
  }

  private arm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.until === null) return;
    const left = this.until - Date.now();
    if (left <= 0) return this.release();
    // Timers cap at 2^31-1 ms; a longer hold re-arms.
    this.timer = setTimeout(() => this.arm(), Math.min(left, 2 ** 31 - 1)).unref();
  }

  private release(): void {
    const limitType = this.limitType;
    this.until = null;
    this.save();
    const info = this.info();
    this.log.info(`usage hold ended (${limitType ?? 'usage'} limit reset); claude runs start ramped, ${this.ramp === Infinity ? 'all' : this.ramp} at first`);
    this.emit('released', info);
    this.emit('changed');
  }

  private load(file: string): void {
    try {
      const text = readStateFile(file, SMALL_FILE_CAP_BYTES);
      if (text === undefined) return;
      const f = FileSchema.parse(JSON.parse(text));
      this.until = f.until;
      this.limitType = f.limit_type;
      this.cause = f.cause;
      this.streak = f.streak;
      this.ramp = f.ramp ?? Infinity;
      if (this.active) this.log.info(`usage hold restored: ${this.reason()}`);
    } catch (err) {
      const q = this.home !== undefined ? quarantine(this.home, file) : { ok: false as const, error: 'no home' };
      this.log.warn(`${file} cannot be used (${(err as Error).message.split('\n')[0]}); ${q.ok ? `moved to ${q.to}` : `not moved (${q.error})`}; no usage hold applies`);
    }
  }

  /** Best effort: a failed write is logged (the hold still applies while this daemon lives). */
  private save(): void {
    if (this.home === undefined) return;
    const file = path.join(this.home, USAGE_HOLD_FILE);
    const tmp = `${file}.${randomHex(4)}.tmp`;
    const data = JSON.stringify({ version: 1, until: this.until, limit_type: this.limitType, cause: this.cause, streak: this.streak, ramp: this.ramp === Infinity ? null : this.ramp });
    try {
      writeNewStateFile(tmp, data);
      fs.renameSync(tmp, file);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      this.log.warn(`cannot write ${file} (${(err as Error).message}); the usage hold will not survive a restart`);
    }
  }
}
