/**
 * Two error families, kept apart on purpose: `DaemonError` is the daemon's answer (a wire code a
 * program can branch on); `ClientError` is local (no daemon, connection lost, timed out) and never
 * crossed the wire.
 */
import type { ErrorCode } from '../protocol/errors.js';

/** The daemon answered `success: false`. */
export class DaemonError extends Error {
  override name = 'DaemonError';
  constructor(
    /** The stable wire code; a string because a newer daemon may send codes this client predates. */
    readonly code: ErrorCode | (string & {}),
    message: string,
    /** The command that failed, for messages. */
    readonly command: string,
  ) {
    super(message);
  }
}

/** Why a request never got an answer from the daemon. */
export type ClientErrorKind = 'NO_DAEMON' | 'CONNECTION_LOST' | 'TIMEOUT' | 'CLOSED' | 'BAD_REPLY';

/** A local failure: nothing was answered. */
export class ClientError extends Error {
  override name = 'ClientError';
  constructor(
    readonly kind: ClientErrorKind,
    message: string,
  ) {
    super(message);
  }
}
