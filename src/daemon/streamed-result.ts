/**
 * A result with one string field too big to hold in memory at once (a 16 MiB `read_output` is
 * 22 MiB of base64, and as one JSON line three copies of it). The connection writes it as one
 * ordinary reply line, but piece by piece as the client reads: the fields of `head`, then `field`
 * whose text `pieces` yields, then the fields `tail()` returns once the pieces are done (such as
 * `next_offset`, known only after the last piece). Key order differs from a built reply; JSON
 * readers do not care.
 */
export class StreamedResult {
  constructor(
    readonly head: Readonly<Record<string, unknown>>,
    readonly field: string,
    /** The field's text in pieces (unescaped; the writer escapes each). */
    readonly pieces: AsyncIterable<string>,
    /** Fields known only at the end. */
    readonly tail: () => Readonly<Record<string, unknown>>,
    /** Frees what the pieces hold (a file handle); called exactly once, written in full or not. */
    readonly close: () => Promise<void>,
  ) {}

  /** Never serialised whole: reaching JSON.stringify is a bug, reported as INTERNAL_ERROR. */
  toJSON(): never {
    throw new Error('a streamed result must be written by the connection, not encoded whole');
  }
}
