import { ENDED_STATUSES } from '../../../protocol/schemas/processes.js';
import { readOutput as readSlice } from '../../supervisor/output.js';
import type { Handler } from '../../registry.js';

/**
 * `read_output`: a slice of captured stdout/stderr by byte offset, or its last lines. The client
 * chooses the reply's size (up to 16 MiB), so the read waits for the connection's turn to produce a
 * big reply first (reply-writer.ts): however many reads a client pipelines, the daemon holds about
 * one budget of them, and a slice larger than a piece is streamed as the client reads.
 */
export const readOutput: Handler<'read_output'> = async (params, { services, replyTurn }) => {
  services.processes.get(params.process_id); // PROCESS_NOT_FOUND before waiting for a turn.
  await replyTurn?.();
  const rec = services.processes.get(params.process_id);
  return readSlice({
    file: services.processes.outputPath(params.process_id, params.stream, params.attempt),
    // An attempt in `attempts` has ended, whatever the record does now.
    ended: ENDED_STATUSES.has(rec.status) || (params.attempt !== undefined && params.attempt <= (rec.attempts?.length ?? 0)),
    offset: params.offset,
    tail_lines: params.tail_lines,
    max_bytes: params.max_bytes,
    encoding: params.encoding,
  });
};
