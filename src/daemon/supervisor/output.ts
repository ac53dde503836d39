/**
 * Reading captured output by byte offset, while the process runs and after. UTF-8 replies never
 * split a character: a read that stops inside one ends before it, and `next_offset` points at its
 * first byte (unless the file can grow no more, where the broken tail is decoded as U+FFFD).
 */
import fs from 'node:fs';
import type { ReadOutputResult } from '../../protocol/schemas/processes.js';
import { CommandError } from '../command-error.js';
import { ioCommandError } from '../io-error.js';

/** What to read. */
export interface ReadRequest {
  file: string;
  /** The process has ended: the file can no longer grow. */
  ended: boolean;
  offset?: number | undefined;
  tail_lines?: number | undefined;
  max_bytes: number;
  encoding: 'utf8' | 'base64';
}

const TAIL_CHUNK = 64 * 1024;

/**
 * Reads one slice of a captured stream. A missing file (queued process) reads as empty; a file that
 * cannot be opened or read (no descriptor left, EIO) fails the read with its code, never an empty
 * answer that would look like the end of the output.
 */
export async function readOutput(req: ReadRequest): Promise<ReadOutputResult> {
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(req.file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw ioCommandError(err, `cannot open ${req.file}`, 'nothing was read') ?? new CommandError('STATE_IO_FAILED', `cannot open ${req.file}: ${(err as Error).message}`);
    }
    const offset = req.offset ?? 0;
    return { data: '', encoding: req.encoding, offset, next_offset: offset, eof: req.ended };
  }
  try {
    const size = (await fh.stat()).size;
    const offset = req.offset ?? (req.tail_lines !== undefined ? await tailStart(fh, size, req.tail_lines) : 0);
    const want = Math.max(0, Math.min(req.max_bytes, size - offset));
    const buf = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await fh.read(buf, got, want - got, offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    let bytes = buf.subarray(0, got);
    const atFinalEnd = req.ended && offset + got >= size;
    if (req.encoding === 'utf8' && !atFinalEnd) bytes = bytes.subarray(0, completeUtf8Length(bytes));
    const next = offset + bytes.length;
    return {
      data: req.encoding === 'base64' ? bytes.toString('base64') : bytes.toString('utf8'),
      encoding: req.encoding,
      offset,
      next_offset: next,
      eof: req.ended && next >= size,
    };
  } finally {
    await fh.close();
  }
}

/** Length of `b` without a trailing, incomplete UTF-8 sequence (invalid bytes are left alone). */
export function completeUtf8Length(b: Uint8Array): number {
  const n = b.length;
  for (let i = n - 1; i >= 0 && i >= n - 4; i--) {
    const c = b[i]!;
    if ((c & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    const need = c < 0x80 ? 1 : (c & 0xe0) === 0xc0 ? 2 : (c & 0xf0) === 0xe0 ? 3 : (c & 0xf8) === 0xf0 ? 4 : 1;
    return i + need > n ? i : n;
  }
  return n;
}

/** Byte offset where the last `lines` lines begin (a final newline does not start an empty line). */
async function tailStart(fh: fs.promises.FileHandle, size: number, lines: number): Promise<number> {
  if (lines === 0) return size;
  let pos = size;
  let seen = 0;
  let skipLast = true;
  const buf = Buffer.allocUnsafe(TAIL_CHUNK);
  while (pos > 0) {
    const len = Math.min(TAIL_CHUNK, pos);
    pos -= len;
    const { bytesRead } = await fh.read(buf, 0, len, pos);
    for (let i = bytesRead - 1; i >= 0; i--) {
      if (buf[i] !== 0x0a) continue;
      if (skipLast && pos + i === size - 1) continue;
      if (++seen === lines) return pos + i + 1;
    }
    skipLast = false;
  }
  return 0;
}
