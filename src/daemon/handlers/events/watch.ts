import { CommandError } from '../../command-error.js';
import type { Handler } from '../../registry.js';

/**
 * Subscribes this connection to events: the reply first, then (with `since_seq`) the journaled
 * events after it, then live ones, until `unwatch` or the connection closes. A second `watch`
 * replaces the first.
 */
export const watch: Handler<'watch'> = (params, ctx) => {
  if (ctx.events === undefined) throw new CommandError('INVALID_REQUEST', 'watch needs a connection to write events to');
  const after = ctx.afterReply ?? ((fn: () => void) => setImmediate(fn));
  return ctx.events().watch(params, (start) => after(start));
};
