import type { Handler } from '../../registry.js';

/** Ends this connection's watch; no event line follows its reply. */
export const unwatch: Handler<'unwatch'> = (_params, ctx) => ctx.events?.().unwatch() ?? { unwatched: false, last_seq: null };
