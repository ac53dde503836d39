/**
 * The event journal: append-only, bounded, seq-numbered, in `<home>/events/`. It is a few segment
 * files named after their first seq (`0000000000000042.jsonl`), one event line each, exactly the
 * line watchers receive. Appends are batched (one write per event-loop turn, by the hub) and go to
 * the page cache before any watcher sees the events, so what a watcher saw survives a SIGKILL of
 * the daemon. Bounded by dropping the oldest segment: at most `segments` x `segmentEvents` events
 * and about `segments` x `segmentBytes` bytes. At load a torn last line (a crash mid-write) is cut
 * off; a segment that is not a regular file or holds a line that is not one of ours is quarantined
 * (moved to `corrupt/`), never fatal; seq continues after the highest one found.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.js';
import { appendAll, openAppendStateFile } from '../state/append.js';
import { readStateFile, StateFileError } from '../state/files.js';
import { ensureStateSubdir } from '../state/home.js';
import { quarantine } from '../state/quarantine.js';
import { firstAfter, parseLines, SEGMENT_NAME, withGap, type JournalLine, type ReadResult } from './lines.js';

export type { JournalLine, ReadResult } from './lines.js';

/** How big the journal may grow; see the file comment. */
export interface JournalLimits {
  segmentEvents: number;
  segmentBytes: number;
  segments: number;
}

/** 8 segments of 6,250 events or 2.5 MiB: at most 50,000 events, about 20 MiB. */
export const DEFAULT_JOURNAL_LIMITS: JournalLimits = { segmentEvents: 6_250, segmentBytes: 2.5 * 1024 * 1024, segments: 8 };

/** Recent lines kept in memory (at most twice this many, and twice RING_BYTES), so a watcher catching up does not read files. */
const RING = 4096;
const RING_BYTES = 4 * 1024 * 1024;

interface Segment {
  first: number;
  file: string;
}

/** See the file comment; one per daemon. */
export class Journal {
  /** The highest seq given out (journaled or not). */
  lastSeq = 0;
  /** Per process id, the last lifecycle event the journal holds for it (restart reconciliation). */
  readonly known = new Map<string, string>();
  /** Per process id, the last claude state the journal holds (no `claude_state` repeats after a restart). */
  readonly knownClaude = new Map<string, string>();
  /** Per process id, the highest live-session turn a `turn_ended` was journaled for (no repeats after a restart). */
  readonly knownTurns = new Map<string, number>();
  /** Time of the newest journaled event found at load (ms; 0 for none). */
  lastTimeAtLoad = 0;
  private readonly dir: string;
  private segs: Segment[] = [];
  private fd: number | undefined;
  private curEvents = 0;
  private curBytes = 0;
  private ring: JournalLine[] = [];
  /** Characters held by the ring (about its bytes). */
  private ringChars = 0;
  private writeFailedAt = 0;
  private closed = false;

  constructor(
    home: string,
    private readonly log: Logger,
    private readonly limits: JournalLimits = DEFAULT_JOURNAL_LIMITS,
  ) {
    this.dir = ensureStateSubdir(home, 'events');
    this.load(home);
  }

  /** The oldest seq still held (lastSeq + 1 when none is). */
  get oldestSeq(): number {
    return this.segs[0]?.first ?? this.ring[0]?.seq ?? this.lastSeq + 1;
  }

  /** Appends a batch (seqs already assigned, increasing) in one write, rotating segments as needed. */
  append(lines: readonly JournalLine[]): void {
    for (const l of lines) {
      this.ring.push(l);
      this.ringChars += l.text.length;
    }
    this.trimRing();
    let i = 0;
    while (i < lines.length) {
      if (this.fd === undefined || this.curEvents >= this.limits.segmentEvents || this.curBytes >= this.limits.segmentBytes) this.rotate(lines[i]!.seq);
      if (this.fd === undefined) return; // No segment could be opened (logged) or the journal is closed: memory only.
      let chunk = '';
      let bytes = 0;
      while (i < lines.length && this.curEvents < this.limits.segmentEvents && this.curBytes + bytes < this.limits.segmentBytes) {
        chunk += lines[i]!.text;
        bytes += Buffer.byteLength(lines[i]!.text);
        this.curEvents++;
        i++;
      }
      this.curBytes += bytes;
      this.write(chunk);
    }
  }

  /** Journaled lines with seq > `after` (a batch: call again with the last one's seq until empty). */
  readAfter(after: number): ReadResult {
    if (after >= this.lastSeq) return { lines: [] };
    const ring = this.ring;
    if (ring.length > 0 && ring[0]!.seq <= after + 1) return { lines: ring.slice(firstAfter(ring, after)) };
    let start = this.segs.findLastIndex((s) => s.first <= after + 1);
    if (start < 0) start = 0;
    for (let i = start; i < this.segs.length; i++) {
      const lines = this.readSegment(this.segs[i]!).filter((l) => l.seq > after);
      if (lines.length > 0) return withGap(after, lines);
    }
    const rest = ring.slice(firstAfter(ring, after));
    // Nothing held after `after` although later seqs were given out: all of them are gone.
    return rest.length === 0 ? { lines: [], gap: { from: after + 1, to: this.lastSeq } } : withGap(after, rest);
  }

  /**
   * Keeps the ring within its bounds (cut back to RING lines and RING_BYTES once past twice either),
   * and never holding more than the files do: what the journal's bound dropped is gone for everyone.
   */
  private trimRing(): void {
    const oldest = this.segs[0]?.first ?? 0;
    const r = this.ring;
    if (r.length <= RING * 2 && this.ringChars <= RING_BYTES * 2 && (r.length === 0 || r[0]!.seq >= oldest)) return;
    let from = Math.max(firstAfter(r, oldest - 1), r.length - RING);
    let chars = 0;
    for (let i = from; i < r.length; i++) chars += r[i]!.text.length;
    while (chars > RING_BYTES && from < r.length - 1) chars -= r[from++]!.text.length;
    this.ring = r.slice(from);
    this.ringChars = chars;
  }

  /** Closes the current segment (daemon stop); later appends are kept in memory only. */
  close(): void {
    this.closed = true;
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private write(chunk: string): void {
    if (this.fd === undefined) return;
    try {
      appendAll(this.fd, chunk);
    } catch (err) {
      // Delivered all the same (from memory while the daemon lives); a restart shows a replay_gap.
      if (Date.now() - this.writeFailedAt > 10_000) this.log.warn(`cannot append to the event journal (${(err as NodeJS.ErrnoException).code ?? String(err)}); events are delivered but not journaled`);
      this.writeFailedAt = Date.now();
    }
  }

  private rotate(first: number): void {
    if (this.closed) return;
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    const file = path.join(this.dir, `${String(first).padStart(16, '0')}.jsonl`);
    try {
      this.fd = openAppendStateFile(file);
    } catch (err) {
      if (Date.now() - this.writeFailedAt > 10_000) this.log.warn(`cannot open the event journal segment: ${(err as Error).message}`);
      this.writeFailedAt = Date.now();
      return;
    }
    this.segs.push({ first, file });
    this.curEvents = 0;
    this.curBytes = 0;
    while (this.segs.length > this.limits.segments) {
      const old = this.segs.shift()!;
      fs.rmSync(old.file, { force: true });
    }
  }

  private readSegment(s: Segment): JournalLine[] {
    try {
      const text = readStateFile(s.file, this.limits.segmentBytes + 4 * 1024 * 1024) ?? '';
      return parseLines(text).lines;
    } catch (err) {
      this.log.warn(`cannot read event journal segment ${s.file}: ${(err as Error).message}`);
      return [];
    }
  }

  private load(home: string): void {
    const names = fs.readdirSync(this.dir).filter((n) => SEGMENT_NAME.test(n)).sort();
    for (const [i, name] of names.entries()) {
      const file = path.join(this.dir, name);
      const first = Number(SEGMENT_NAME.exec(name)![1]);
      const last = i === names.length - 1;
      let parsed: ReturnType<typeof parseLines> | undefined;
      try {
        const text = readStateFile(file, this.limits.segmentBytes + 4 * 1024 * 1024) ?? '';
        parsed = parseLines(text);
        if (parsed.corrupt !== undefined) throw new StateFileError(file, parsed.corrupt);
        if (parsed.lines.length > 0 && (parsed.lines[0]!.seq < first || parsed.lines[0]!.seq <= this.lastSeq)) throw new StateFileError(file, 'its seqs do not follow the previous segment');
        if (parsed.torn > 0 && last) fs.truncateSync(file, parsed.goodBytes);
      } catch (err) {
        const q = quarantine(home, file);
        this.log.warn(`event journal segment ${file} is unusable (${(err as Error).message}); ${q.ok ? `moved to ${q.to}` : `could not move it aside (${q.error}); deleting it`}`);
        if (!q.ok) fs.rmSync(file, { force: true });
        // Seqs never repeat: past every seq the segment may have held (up to the next one's first).
        const next = names[i + 1];
        const bound = next !== undefined ? Number(SEGMENT_NAME.exec(next)![1]) - 1 : first + this.limits.segmentEvents - 1;
        this.lastSeq = Math.max(this.lastSeq, parsed?.lines.at(-1)?.seq ?? 0, bound);
        continue;
      }
      this.segs.push({ first, file });
      for (const l of parsed.lines) this.noteLoaded(l);
      if (last) {
        this.ring = parsed.lines.slice(-RING);
        this.ringChars = this.ring.reduce((n, l) => n + l.text.length, 0);
        this.trimRing();
        this.curEvents = parsed.lines.length;
        this.curBytes = parsed.goodBytes;
      }
    }
    // Appends go on in the last segment (opened on the first append, not to create empty files).
    const tail = this.segs.at(-1);
    if (tail !== undefined && this.curEvents < this.limits.segmentEvents && this.curBytes < this.limits.segmentBytes) {
      try {
        this.fd = openAppendStateFile(tail.file);
      } catch {
        this.fd = undefined; // rotate() opens a new one.
      }
    } else {
      this.curEvents = this.limits.segmentEvents;
    }
  }

  private noteLoaded(l: JournalLine): void {
    this.lastSeq = Math.max(this.lastSeq, l.seq);
    if (l.pid === undefined) return;
    if (l.type === 'removed') {
      this.known.delete(l.pid);
      this.knownClaude.delete(l.pid);
      this.knownTurns.delete(l.pid);
    }
    else if (l.type === 'spawned' || l.type === 'started' || l.type === 'ended') this.known.set(l.pid, l.type);
    else if (l.type === 'claude_state') {
      const state = /"data":\{"state":"([a-z_]+)"/.exec(l.text)?.[1];
      if (state !== undefined) this.knownClaude.set(l.pid, state);
    } else if (l.type === 'turn_ended') {
      const n = Number(/"data":\{"turn":(\d+)/.exec(l.text)?.[1]);
      if (Number.isInteger(n)) this.knownTurns.set(l.pid, Math.max(n, this.knownTurns.get(l.pid) ?? 0));
    }
    const t = Date.parse(/"time":"([^"]*)"/.exec(l.text)?.[1] ?? '');
    if (Number.isFinite(t)) this.lastTimeAtLoad = Math.max(this.lastTimeAtLoad, t);
  }
}
