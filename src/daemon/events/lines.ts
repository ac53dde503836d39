/**
 * The journal's line format, read back: the hub writes every event line with its keys in one order
 * (event, seq, time, type, process_id, data), so seq, type and process id are read by position,
 * without parsing the whole line; anything else in a segment makes it corrupt.
 */

/** Segment files: their first seq, 16 digits. */
export const SEGMENT_NAME = /^(\d{16})\.jsonl$/;
/** The prefix the hub writes on every line, in this key order. */
const LINE = /^\{"event":true,"seq":(\d+),"time":"([^"]*)","type":"([a-z_]+)"(?:,"process_id":"([A-Za-z0-9._-]{1,64})")?,"data":\{.*\}\}$/;

/** One journaled event: its seq, type and process (for filtering without parsing) and its line. */
export interface JournalLine {
  seq: number;
  type: string;
  pid: string | undefined;
  /** The encoded line, newline included. */
  text: string;
}

/** Lines after a seq, and the seqs the journal no longer holds between it and them. */
export interface ReadResult {
  lines: JournalLine[];
  gap?: { from: number; to: number };
}

/**
 * Splits a segment into lines. The text after the last newline is a torn write (dropped); any
 * complete line that is not an event line of ours, or whose seq does not increase, makes it corrupt.
 */
export function parseLines(text: string): { lines: JournalLine[]; goodBytes: number; torn: number; corrupt?: string } {
  const lines: JournalLine[] = [];
  const end = text.lastIndexOf('\n') + 1;
  const torn = text.length - end;
  let prev = 0;
  let at = 0;
  while (at < end) {
    const nl = text.indexOf('\n', at);
    const line = text.slice(at, nl);
    at = nl + 1;
    const m = LINE.exec(line);
    const seq = m ? Number(m[1]) : NaN;
    if (!m || !Number.isSafeInteger(seq) || seq <= prev) return { lines, goodBytes: Buffer.byteLength(text.slice(0, end)), torn, corrupt: `line ${lines.length + 1} is not an event line with an increasing seq` };
    prev = seq;
    lines.push({ seq, type: m[3]!, pid: m[4], text: `${line}\n` });
  }
  return { lines, goodBytes: Buffer.byteLength(text.slice(0, end)), torn };
}

/** Index of the first line with seq > `after` (lines sorted by seq). */
export function firstAfter(lines: readonly JournalLine[], after: number): number {
  let lo = 0;
  let hi = lines.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (lines[mid]!.seq <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Lines after `after`, with the seqs between it and the first of them reported as a gap. */
export function withGap(after: number, lines: JournalLine[]): ReadResult {
  const first = lines[0]?.seq;
  return first !== undefined && first > after + 1 ? { lines, gap: { from: after + 1, to: first - 1 } } : { lines };
}
