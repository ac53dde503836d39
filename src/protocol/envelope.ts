/**
 * The wire envelope of the original design: one JSON object per line; requests carry `command`,
 * replies carry `success` plus `result` or `error`. `id` and `code` are our additive extensions:
 * an old client that sends neither sees exactly the original shapes.
 */
import type { ErrorCode } from './errors.js';

/** Correlates a reply with its request when a connection has several in flight. */
export type RequestId = string | number;

/** A request as it travels: the command name, an optional id, and the command's parameters inline. */
export interface WireRequest {
  command: string;
  id?: RequestId;
  [param: string]: unknown;
}

/** A successful reply; `id` is present exactly when the request had one. */
export interface SuccessReply<R = unknown> {
  success: true;
  result: R;
  /** A caveat about a result that still stands (e.g. call_function served by an older version). */
  warning?: string;
  id?: RequestId;
}

/** A failed reply; `error` is for people, `code` for programs. */
export interface ErrorReply {
  success: false;
  error: string;
  code: ErrorCode;
  id?: RequestId;
}

/** Either reply shape; `success` discriminates. */
export type WireReply<R = unknown> = SuccessReply<R> | ErrorReply;

/** Envelope keys that are not command parameters. */
export const ENVELOPE_KEYS: ReadonlySet<string> = new Set(['command', 'id']);

/** True for the id forms the protocol accepts; a request with any other `id` is refused (INVALID_REQUEST). */
export function isRequestId(value: unknown): value is RequestId {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

/**
 * Serialises a reply as one line, adding `id` only when the request carried one. A result JSON cannot
 * carry (a BigInt, a cycle) becomes an INTERNAL_ERROR reply rather than an exception, so the
 * request still gets its one reply.
 */
export function encodeReply(reply: WireReply, id: RequestId | undefined): string {
  if (id !== undefined) reply.id = id;
  try {
    return JSON.stringify(reply) + '\n';
  } catch (err) {
    const failed: ErrorReply = { success: false, error: `internal error: the reply could not be encoded as JSON (${(err as Error).message})`, code: 'INTERNAL_ERROR' };
    if (id !== undefined) failed.id = id;
    return JSON.stringify(failed) + '\n';
  }
}
