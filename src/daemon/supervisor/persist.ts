/**
 * Writing records when the disk may refuse. A record that cannot be written (disk full, no
 * descriptor left) stays authoritative in memory and is written again every second until it lands,
 * so once space is freed the state directory catches up without a restart. Each failure is logged
 * once per record, and its recovery once, so a full disk does not flood the log.
 */
import type { Logger } from '../log.js';
import type { Entry } from './entry.js';
import { writeStored } from './store.js';

/** How often records that failed to write are tried again. */
const RETRY_MS = 1000;

/** See the file comment; one per supervisor. */
export class RecordWriter {
  /** Records not yet on disk, with the number of failed attempts. */
  private readonly dirty = new Map<Entry, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** False once an entry was removed or replaced: its record must no longer be written. */
    private readonly isCurrent: (e: Entry) => boolean,
    private readonly log: Logger,
  ) {}

  /** Writes `e`'s record now; when that fails, keeps it to retry and returns false. */
  write(e: Entry): boolean {
    e.unslim();
    try {
      writeStored(e.pd, e.stored);
    } catch (err) {
      if (!this.dirty.has(e)) this.log.error(`cannot write the record of process ${e.id} (kept in memory, retried every ${RETRY_MS / 1000} s)`, (err as Error).message);
      this.dirty.set(e, (this.dirty.get(e) ?? 0) + 1);
      this.timer ??= setInterval(() => this.retry(), RETRY_MS).unref();
      return false;
    }
    this.landed(e);
    return true;
  }

  /** Writes `e`'s record now or throws the file system's error (nothing is kept to retry). */
  writeOrThrow(e: Entry): void {
    e.unslim();
    writeStored(e.pd, e.stored);
    this.landed(e);
  }

  /** True while `e`'s record waits to reach disk. */
  has(e: Entry): boolean {
    return this.dirty.has(e);
  }

  /** Records waiting to reach disk. */
  get pending(): number {
    return this.dirty.size;
  }

  /** One more attempt at every pending record (also at shutdown). */
  retry(): void {
    for (const e of [...this.dirty.keys()]) {
      if (!this.isCurrent(e)) this.dirty.delete(e);
      else this.write(e);
    }
    if (this.dirty.size === 0) this.stop();
  }

  /** Stops retrying (at shutdown, after a last `retry`). */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private landed(e: Entry): void {
    const attempts = this.dirty.get(e);
    if (attempts === undefined) return;
    this.dirty.delete(e);
    this.log.info(`the record of process ${e.id} is on disk again (after ${attempts} failed attempts)`);
  }
}
