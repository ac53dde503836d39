/**
 * Reads a growing output file from where it last stopped, so the daemon can follow a claude run's
 * stdout while the child writes it straight to disk. The child never waits on us: it writes to a
 * file it owns (no pipe to fill), and we only open the file read-only and read what is new. An
 * inotify watch wakes us soon after a write; a slow timer covers whatever inotify misses (a file
 * that does not exist yet, watch limits, filesystems without it).
 */
import fs from 'node:fs';

/** Bytes read per `read(2)`; the buffer is reused, so consumers must copy what they keep. */
const CHUNK = 64 * 1024;

/** Follows one file; `onData` gets each new slice of it in order. */
export class FileFollower {
  private fd: number | undefined;
  private offset: number;
  private watcher: fs.FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  /** Per follower (reads of different followers run in parallel on the thread pool); freed at stop. */
  private buf: Buffer | undefined;

  constructor(
    private readonly file: string,
    private readonly onData: (chunk: Buffer) => void,
    opts: { fromOffset?: number; pollMs?: number } = {},
  ) {
    this.offset = opts.fromOffset ?? 0;
    this.timer = setInterval(() => void this.poll(), opts.pollMs ?? 1000);
    this.timer.unref();
    this.watch();
  }

  /** Bytes consumed so far. */
  get position(): number {
    return this.offset;
  }

  /** Reads whatever is new now; concurrent calls coalesce into one more pass. */
  poll(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.reading) {
      this.again = true;
      return this.reading;
    }
    this.reading = (async () => {
      do {
        this.again = false;
        await this.drain();
      } while (this.again && !this.stopped);
    })().finally(() => (this.reading = undefined));
    return this.reading;
  }

  /** Reads to the end of the file once more (the writer has exited), then releases everything. */
  async stop(): Promise<void> {
    await this.poll();
    this.stopped = true;
    this.release();
  }

  /**
   * Reads to the end of the file synchronously, then releases everything. For the moment a run
   * ends: whoever is woken by that end (a `wait_process`, a `claude_result`) must find the final
   * `claude` object, so the last bytes cannot wait for a tick. They are few (the follower keeps up
   * while the run lives), and an async read still in flight is discarded by its offset check.
   */
  finishSync(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.offset = readFileSync(this.file, this.onData, this.offset);
    this.release();
  }

  /** Releases the file and timers without a last read (the run is being forgotten). */
  close(): void {
    this.stopped = true;
    this.release();
  }

  private release(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.watcher?.close();
    this.watcher = undefined;
    if (this.fd !== undefined) fs.close(this.fd, () => undefined);
    this.fd = undefined;
    this.buf = undefined;
  }

  private watch(): void {
    if (this.watcher || this.stopped) return;
    try {
      this.watcher = fs.watch(this.file, { persistent: false }, () => void this.poll());
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      // Not there yet, or no inotify: the timer polls instead.
    }
  }

  private async drain(): Promise<void> {
    if (this.fd === undefined) {
      const fd = await openRead(this.file);
      if (fd === undefined) return;
      if (this.stopped) {
        fs.close(fd, () => undefined);
        return;
      }
      this.fd = fd;
      this.watch();
    }
    const buf = (this.buf ??= Buffer.allocUnsafe(CHUNK));
    for (;;) {
      if (this.stopped || this.fd === undefined) return;
      const at = this.offset;
      const n = await readAt(this.fd, buf, at);
      if (n <= 0 || this.stopped || this.offset !== at) return;
      this.offset += n;
      this.onData(buf.subarray(0, n));
    }
  }
}

function openRead(file: string): Promise<number | undefined> {
  return new Promise((resolve) => fs.open(file, 'r', (err, fd) => resolve(err ? undefined : fd)));
}

function readAt(fd: number, buf: Buffer, position: number): Promise<number> {
  return new Promise((resolve) => fs.read(fd, buf, 0, buf.length, position, (err, n) => resolve(err ? 0 : n)));
}

/**
 * Feeds `file` from `offset` to its end to `onData`, synchronously, in 64 KiB slices of one reused
 * buffer; returns the offset reached. A missing file is no data (the run never started).
 */
export function readFileSync(file: string, onData: (chunk: Buffer) => void, offset = 0): number {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, offset);
      if (n <= 0) break;
      offset += n;
      onData(buf.subarray(0, n));
    }
  } catch {
    // No file, or it went away: nothing more to read.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  return offset;
}
