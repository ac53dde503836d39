/**
 * Size-capped JSON Lines framing over bytes. It splits on `\n` before decoding, so a multi-byte
 * UTF-8 character split across chunks is never mangled, and it never holds more than `maxLineBytes`
 * of an unfinished line: a peer cannot make the daemon buffer without bound.
 */

/** Default cap on one request line: large enough for any sane request, small enough to bound memory. */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

/** What the splitter found in a chunk: complete lines, then possibly one overflow. */
export type FrameEvent = { kind: 'line'; text: string } | { kind: 'too_large' };

const NEWLINE = 0x0a;
const decoder = new TextDecoder('utf-8');

/** Accumulates chunks and yields complete lines; stops for good after an overflow. */
export class LineSplitter {
  private parts: Uint8Array[] = [];
  private pending = 0;
  private overflowed = false;

  constructor(private readonly maxLineBytes: number = DEFAULT_MAX_LINE_BYTES) {}

  /** Feeds one chunk; returns the events it completed (possibly none). */
  push(chunk: Uint8Array): FrameEvent[] {
    if (this.overflowed) return [];
    const events: FrameEvent[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl === -1) break;
      const piece = chunk.subarray(start, nl);
      if (this.pending + piece.length > this.maxLineBytes) return this.overflow(events);
      events.push({ kind: 'line', text: this.take(piece) });
      start = nl + 1;
    }
    const rest = chunk.subarray(start);
    if (rest.length > 0) {
      if (this.pending + rest.length > this.maxLineBytes) return this.overflow(events);
      // Copy: the caller may reuse its buffer.
      this.parts.push(Uint8Array.prototype.slice.call(rest));
      this.pending += rest.length;
    }
    return events;
  }

  /** Bytes held for the unfinished line; exposed so tests can prove the bound. */
  get bufferedBytes(): number {
    return this.pending;
  }

  private take(last: Uint8Array): string {
    if (this.parts.length === 0) return stripCr(decoder.decode(last));
    const all = new Uint8Array(this.pending + last.length);
    let off = 0;
    for (const p of this.parts) {
      all.set(p, off);
      off += p.length;
    }
    all.set(last, off);
    this.parts = [];
    this.pending = 0;
    return stripCr(decoder.decode(all));
  }

  private overflow(events: FrameEvent[]): FrameEvent[] {
    this.overflowed = true;
    this.parts = [];
    this.pending = 0;
    events.push({ kind: 'too_large' });
    return events;
  }
}

function stripCr(s: string): string {
  return s.endsWith('\r') ? s.slice(0, -1) : s;
}
