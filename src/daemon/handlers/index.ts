/** The handler table: one file per command, gathered here; the type demands one for every command. */
import type { HandlerTable } from '../registry.js';
import { ping } from './ping.js';
import { shutdown } from './shutdown.js';

/** Every command's handler, keyed by wire name. */
export const HANDLERS: HandlerTable = {
  ping,
  shutdown,
};
