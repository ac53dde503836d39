/** The event commands' handlers (one file each). */
import type { HandlerTable } from '../../registry.js';
import { unwatch } from './unwatch.js';
import { watch } from './watch.js';

/** Spread into the handler table. */
export const EVENT_HANDLERS: Pick<HandlerTable, 'watch' | 'unwatch'> = { watch, unwatch };
