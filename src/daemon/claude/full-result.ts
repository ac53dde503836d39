/**
 * The whole final text of a run, for `claude_result` when the record holds it truncated: re-reads
 * the run's stdout file through a tracker that keeps the result uncut. Rare (results over 4 KiB)
 * and bounded by the file, so streaming it once per request is fine.
 */
import fs from 'node:fs';
import { StreamTracker } from './tracker.js';

/** The `result` text of the last result line in `stdoutPath`, or null if there is none. */
export async function readFullResult(stdoutPath: string): Promise<string | null> {
  const t = new StreamTracker({ resultLimit: Infinity });
  try {
    for await (const chunk of fs.createReadStream(stdoutPath, { highWaterMark: 64 * 1024 })) t.push(chunk as Buffer);
  } catch {
    return null;
  }
  t.finish();
  return t.info.result;
}
