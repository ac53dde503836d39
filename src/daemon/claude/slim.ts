/**
 * What an ended claude run keeps in memory once it is settled: of its `claude` object only what the
 * daemon itself reads of an ended run (the verdict for dependencies and retries, the cost for budgets
 * and totals, the state), and instead of its command line a shared one-element
 * array of its program (a claude argv repeats the same flags and often a long prompt; nothing reads
 * an ended run's argv, and a record written from the slim one still has a valid command).
 * The whole object was ~0.7 kB of a run's ~2.3 kB, more with a long `result` (up to 4 KiB) or
 * prompt. record.json keeps the record as it was, and every reply (process_info, list_processes,
 * wait_process, claude_result) reads it back from there (supervisor/entry.ts replyRecord), so
 * clients see exactly what they saw before. Only if record.json cannot be read does a reply show
 * the slim record: its `claude` object cut to those fields, `result` null with `result_truncated:
 * true` (claude_result reads the whole text from the run's output, as for any cut result), and
 * `cmd` its program alone.
 */
import type { ClaudeRunInfo } from '../../protocol/schemas/claude.js';
import type { ProcessRecord } from '../../protocol/schemas/processes.js';
import type { RecordSlimmer } from '../supervisor/index.js';

/** Programs seen, up to this many: beyond, a slim record gets an array of its own. */
const PROGRAMS_KEPT = 64;
/** The argv a slim record holds, one per program, shared and frozen so that no one changes it for all. */
const argvs = new Map<string, string[]>();

function programOnly(cmd: string[]): string[] {
  const bin = cmd[0] ?? '';
  let a = argvs.get(bin);
  if (a === undefined) {
    a = Object.freeze([bin]) as unknown as string[];
    if (argvs.size < PROGRAMS_KEPT) argvs.set(bin, a);
  }
  return a;
}

/** The supervisor's RecordSlimmer for claude runs (see the file comment). */
export const slimClaudeResult: RecordSlimmer = (rec) => {
  const c = rec.claude as ClaudeRunInfo | undefined;
  if (c === undefined || c === null) return undefined;
  // One literal, so every slim object shares one shape (a few fields, no dictionary).
  const kept = {
    is_error: c.is_error,
    total_cost_usd: c.total_cost_usd,
    state: c.state,
    result: null,
    result_truncated: true,
  };
  rec.claude = kept as Record<string, unknown>;
  rec.cmd = programOnly(rec.cmd);
  return restoreClaude;
};

function restoreClaude(rec: ProcessRecord, onDisk: ProcessRecord): void {
  if (onDisk.claude !== undefined) rec.claude = onDisk.claude;
  rec.cmd = onDisk.cmd;
}
