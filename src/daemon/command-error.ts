import type { ErrorCode } from '../protocol/errors.js';

/**
 * What a handler throws to fail a request with a stable wire code. Anything else a handler throws is
 * a bug: the connection layer reports it as INTERNAL_ERROR and logs the stack.
 */
export class CommandError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}
