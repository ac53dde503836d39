/** The handler table: one file per command, gathered here; the type demands one for every command. */
import type { HandlerTable } from '../registry.js';
import { ping } from './ping.js';
import { shutdown } from './shutdown.js';
import { PROCESS_HANDLERS } from './processes/index.js';
import { CLAUDE_HANDLERS } from './claude/index.js';
import { MODULE_HANDLERS } from './modules/index.js';
import { GROUP_HANDLERS } from './groups/index.js';
import { EVENT_HANDLERS } from './events/index.js';

/** Every command's handler, keyed by wire name. */
export const HANDLERS: HandlerTable = {
  ping,
  shutdown,
  ...PROCESS_HANDLERS,
  ...CLAUDE_HANDLERS,
  ...MODULE_HANDLERS,
  ...GROUP_HANDLERS,
  ...EVENT_HANDLERS,
};
