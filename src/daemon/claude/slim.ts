/**
 * What an ended claude run keeps in memory: its `result` (up to 4 KiB in the record, the bulk of a
 * run's ~6 kB) cut to its first RESULT_KEPT characters once the run is settled, and its `last_text`
 * and `usage` dropped. record.json keeps
 * it as it was, and every reply (process_info, list_processes, wait_process, claude_result) reads
 * it back from there (supervisor/entry.ts replyRecord), so clients see exactly what they saw before.
 * Only if record.json cannot be read does a reply show the cut text, with `result_truncated: true`
 * (claude_result then reads the whole text from the run's output, as for any cut result).
 */
import type { ClaudeRunInfo } from '../../protocol/schemas/claude.js';
import type { ProcessRecord } from '../../protocol/schemas/processes.js';
import type { RecordSlimmer } from '../supervisor/index.js';

/** Characters of an ended run's `result` kept in memory. */
export const RESULT_KEPT = 200;

/** The supervisor's RecordSlimmer for claude runs (see the file comment). */
export const slimClaudeResult: RecordSlimmer = (rec) => {
  const c = rec.claude as ClaudeRunInfo | undefined;
  if (typeof c?.result !== 'string' || c.result.length <= RESULT_KEPT) return undefined;
  // A fresh string: a slice would keep the whole text alive behind it (V8 sliced strings).
  c.result = JSON.parse(JSON.stringify(c.result.slice(0, RESULT_KEPT))) as string;
  c.result_truncated = true;
  // The same goes for the other bulky parts a reply reads back: the latest text and the usage object.
  c.last_text = null;
  c.usage = null;
  return restoreResult;
};

function restoreResult(rec: ProcessRecord, onDisk: ProcessRecord): void {
  const c = rec.claude as ClaudeRunInfo | undefined;
  const d = onDisk.claude as ClaudeRunInfo | undefined;
  if (c === undefined || d === undefined) return;
  c.result = d.result;
  c.result_truncated = d.result_truncated;
  c.last_text = d.last_text;
  c.usage = d.usage;
}
