import { ENDED_STATUSES } from '../../../protocol/schemas/processes.js';
import { readOutput as readSlice } from '../../supervisor/output.js';
import type { Handler } from '../../registry.js';

/** `read_output`: a slice of captured stdout/stderr by byte offset, or its last lines. */
export const readOutput: Handler<'read_output'> = (params, { services }) => {
  const rec = services.processes.get(params.process_id);
  return readSlice({
    file: services.processes.outputPath(params.process_id, params.stream),
    ended: ENDED_STATUSES.has(rec.status),
    offset: params.offset,
    tail_lines: params.tail_lines,
    max_bytes: params.max_bytes,
    encoding: params.encoding,
  });
};
