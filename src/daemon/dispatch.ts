/**
 * From one request line to one reply: parse, check the envelope, validate the parameters against the
 * command's schema, run the handler. Every failure becomes a reply with a registered code; nothing a
 * client sends can throw out of here.
 */
import { COMMAND_SCHEMAS, type CommandName } from '../protocol/commands.js';
import { isRequestId, type RequestId, type WireReply } from '../protocol/envelope.js';
import type { ErrorCode } from '../protocol/errors.js';
import { validateParams } from '../protocol/validate.js';
import { CommandError } from './command-error.js';
import { ioCommandError } from './io-error.js';
import { HANDLERS } from './handlers/index.js';
import type { Handler, RequestContext } from './registry.js';

const KNOWN = Object.keys(COMMAND_SCHEMAS).sort().join(', ');

/** A request taken apart: its id (if any) and the work that produces its reply. */
export interface Dispatched {
  id: RequestId | undefined;
  reply: Promise<WireReply> | WireReply;
}

/** Builds an error reply; shared by the connection layer for framing errors. */
export function errorReply(code: ErrorCode, error: string): WireReply {
  return { success: false, error, code };
}

/** Parses and runs one line. Synchronous failures come back as an immediate reply. */
export function dispatchLine(line: string, ctx: RequestContext): Dispatched {
  let msg: unknown;
  try {
    msg = JSON.parse(line);
  } catch (err) {
    return { id: undefined, reply: errorReply('INVALID_JSON', `request is not valid JSON (${(err as Error).message}); send one JSON object per line`) };
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
    return { id: undefined, reply: errorReply('INVALID_REQUEST', 'request must be a JSON object like {"command": "ping"}') };
  }
  const obj = msg as Record<string, unknown>;
  const rawId = obj['id'];
  const id = isRequestId(rawId) ? rawId : undefined;
  if (rawId !== undefined && id === undefined) {
    // Answering without the id would leave a correlating client waiting forever; say so instead.
    return { id, reply: errorReply('INVALID_REQUEST', `"id" must be a string or a finite number, not ${JSON.stringify(rawId)?.slice(0, 100) ?? 'that'}`) };
  }
  const command = obj['command'];
  if (typeof command !== 'string') {
    return { id, reply: errorReply('INVALID_REQUEST', 'request needs a string "command" field, e.g. {"command": "ping"}') };
  }
  if (!Object.hasOwn(COMMAND_SCHEMAS, command)) {
    return { id, reply: errorReply('UNKNOWN_COMMAND', `unknown command ${JSON.stringify(command.slice(0, 100))}; known commands: ${KNOWN}`) };
  }
  const name = command as CommandName;
  // A fresh object without the envelope keys (a spread plus `delete` costs five times as much).
  // `__proto__` is skipped: assigning it would set the object's prototype, not a parameter.
  const params: Record<string, unknown> = {};
  for (const key in obj) if (key !== 'command' && key !== 'id' && key !== '__proto__') params[key] = obj[key];
  const checked = validateParams(name, COMMAND_SCHEMAS[name], params);
  if (!checked.ok) return { id, reply: errorReply('INVALID_PARAMS', checked.message) };
  return { id, reply: run(HANDLERS[name] as Handler<CommandName>, checked.value, ctx) };
}

/**
 * Runs a handler. A synchronous handler (ping) gets a synchronous reply: no promise, no microtask, so
 * the connection writes it in the same tick; only handlers that really wait return a promise.
 */
function run(handler: Handler<CommandName>, params: unknown, ctx: RequestContext): Promise<WireReply> | WireReply {
  let result: unknown;
  try {
    result = handler(params as never, ctx);
  } catch (err) {
    return failure(err, ctx);
  }
  if (!(result instanceof Promise)) return { success: true, result };
  return result.then(
    (value: unknown): WireReply => ({ success: true, result: value }),
    (err: unknown) => failure(err, ctx),
  );
}

function failure(err: unknown, ctx: RequestContext): WireReply {
  if (err instanceof CommandError) return errorReply(err.code, err.message);
  // A full disk or no descriptor left is the machine's state, not a bug: say which, with its code.
  const io = ioCommandError(err, 'the command could not complete');
  if (io !== undefined) {
    ctx.services.log.warn(io.message);
    return errorReply(io.code, io.message);
  }
  ctx.services.log.error('handler failed', err);
  return errorReply('INTERNAL_ERROR', `internal error: ${err instanceof Error ? err.message : String(err)} (this is a daemon bug; see its log)`);
}
