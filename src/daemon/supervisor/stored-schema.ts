/**
 * The schema of record.json (a StoredProcess). Records are read back from disk at start, where
 * anything may have happened to them (a crash mid-edit, a hand edit, a planted file): each is
 * checked with the protocol's own record schema plus the daemon's bookkeeping fields before the
 * supervisor acts on it, so a wrong-typed field is a quarantined file, not a TypeError or a
 * command spawned character by character.
 */
import { z } from 'zod';
import { ProcessRecordSchema, SpawnProcessParams } from '../../protocol/schemas/processes.js';
import type { StoredProcess } from './store.js';

const Pid = z.number().int().positive().nullable();
const Ticks = z.number().int().nonnegative().nullable();

const StoredProcessSchema: z.ZodType<StoredProcess> = z.looseObject({
  version: z.literal(1),
  record: ProcessRecordSchema,
  seq: z.number().int().nonnegative(),
  env: SpawnProcessParams.shape.env.unwrap().nullable(),
  has_stdin: z.boolean(),
  stdin_fifo: z.boolean().optional(),
  wrapper_pid: Pid,
  wrapper_start: Ticks,
  pid_start: Ticks,
  boot_id: z.string().nullable().optional(),
});

/** The stored process in `text`, or an Error saying which fields are wrong. */
export function parseStored(text: string, expectedId: string): StoredProcess | Error {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return new Error(`not valid JSON (${(err as Error).message})`);
  }
  const r = StoredProcessSchema.safeParse(json);
  if (!r.success) {
    const parts = r.error.issues.slice(0, 5).map((i) => `\`${i.path.map(String).join('.') || '(record)'}\`: ${i.message}`);
    return new Error(`wrong shape: ${parts.join('; ')}`);
  }
  if (r.data.record.process_id !== expectedId) return new Error(`record.process_id ${JSON.stringify(r.data.record.process_id)} does not match its directory ${JSON.stringify(expectedId)}`);
  return r.data;
}
