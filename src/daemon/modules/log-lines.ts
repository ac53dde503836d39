/**
 * Module output goes to the daemon's log a line at a time, tagged with the module's name: never to
 * the socket, and never as half lines interleaved with another module's output.
 */
import type { Readable } from 'node:stream';

/** Longest line kept; a module printing megabytes without a newline cannot grow the daemon. */
const MAX_LINE = 16 * 1024;

/** Calls `emit` for each complete line of `stream` (and for the rest at its end). */
export function forEachLine(stream: Readable | null | undefined, emit: (line: string) => void): void {
  if (!stream) return;
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) !== -1) {
      emit(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
    if (buf.length > MAX_LINE) {
      emit(buf.slice(0, MAX_LINE) + ' [line cut]');
      buf = '';
    }
  });
  stream.on('end', () => {
    if (buf !== '') emit(buf);
    buf = '';
  });
  stream.on('error', () => undefined);
}
