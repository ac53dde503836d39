/**
 * Output schemas of the tools, as zod (turned into each tool's `outputSchema`). They are loose
 * objects: a field a newer daemon adds passes through to the model instead of failing validation,
 * and only what the tools' text and the docs rely on is spelled out.
 */
import { z } from 'zod';
import { ProcessRecordSchema } from '../protocol/schemas/processes.js';

/** A process record, exactly the protocol's schema (the one the daemon checks records read from disk with). */
export const RecordOut = ProcessRecordSchema;

const nullableString = z.string().nullable();

/** `list_processes`: the records and the totals by status. */
export const ListOut = z.looseObject({
  processes: z.array(RecordOut),
  totals: z.record(z.string(), z.number()),
});

/** `read_output`: the wire reply plus which process and stream, and the file it comes from. */
export const ReadOut = z.looseObject({
  process_id: z.string(),
  stream: z.enum(['stdout', 'stderr']),
  data: z.string(),
  encoding: z.enum(['utf8', 'base64']),
  offset: z.number().int().nonnegative(),
  next_offset: z.number().int().nonnegative(),
  eof: z.boolean(),
  path: z.string(),
});

/** `wait`: which ended (their records first), which still run, and whether the timeout passed. */
export const WaitOut = z.looseObject({
  mode: z.enum(['any', 'all']),
  timed_out: z.boolean(),
  ended: z.array(z.string()),
  still_running: z.array(z.string()),
  processes: z.array(RecordOut),
});

/** `claude_result`: the wire reply plus the process id. */
export const ClaudeResultOut = z.looseObject({
  process_id: z.string(),
  result: nullableString,
  is_error: z.boolean().nullable(),
  subtype: nullableString,
  api_error_status: z.number().nullable(),
  error: nullableString,
  error_type: nullableString,
  session_id: nullableString,
  state: z.string(),
  running: z.boolean(),
  timed_out: z.boolean().optional(),
});

/** `remove_process`. */
export const RemoveOut = z.looseObject({ removed: z.literal(true), process_id: z.string() });

const ModuleFunctionOut = z.looseObject({ name: z.string(), params: z.array(z.string()) });

/** `load_module`: the loaded version. */
export const ModuleOut = z.looseObject({
  module: z.string(),
  version: z.number().int(),
  language: z.string(),
  functions: z.array(ModuleFunctionOut),
  path: z.string(),
  loaded_at: z.string(),
});

/** `list_modules`. */
export const ModulesOut = z.looseObject({
  module_host: z.looseObject({ pid: z.number(), rss: z.number() }).nullable().optional(),
  modules: z.array(
    ModuleOut.extend({
      calls_served: z.number(),
      calls_in_flight: z.number(),
      restarts: z.number(),
      last_error: z.string().optional(),
    }),
  ),
});

/** `call_function`: the function's return value (any JSON) under `result`. */
export const CallOut = z.looseObject({ module: z.string(), function: z.string(), result: z.unknown() });

/** `ping`. */
export const PingOut = z.looseObject({
  pong: z.literal(true),
  version: z.string(),
  pid: z.number().int(),
  uptime_s: z.number(),
  socket: z.string(),
  home: z.string(),
  modules_dir: z.string(),
});

/** `group_set`, and each of `group_list`'s groups. */
export const GroupOut = z.looseObject({
  group: z.string(),
  parallel: z.number().int().nonnegative(),
  paused: z.boolean(),
  running: z.number().int().nonnegative(),
  queued: z.number().int().nonnegative(),
  waiting: z.number().int().nonnegative(),
  held: nullableString,
  budget_usd: z.number().nullable(),
  spent_usd: z.number(),
});

/** `group_list`. */
export const GroupListOut = z.looseObject({ groups: z.array(GroupOut) });

/** `send_message`: the turn the message is, and whether it waits behind another. */
export const SendMessageOut = z.looseObject({ process_id: z.string(), turn: z.number().int().positive(), queued: z.boolean() });

/** `interrupt`. */
export const InterruptOut = z.looseObject({ process_id: z.string(), turn: z.number().int().nullable(), interrupted: z.boolean() });

/** `close_input`. */
export const CloseInputOut = z.looseObject({ process_id: z.string(), pending_turns: z.number().int().nonnegative(), closed_now: z.boolean() });
