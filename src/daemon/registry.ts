/**
 * How a command plugs in: a handler per command name, typed from the protocol's schema table, so
 * adding a command is a schema in src/protocol and a file in handlers/ (the compiler insists on both).
 */
import type { CommandName, ParamsOut, ResultOf } from '../protocol/commands.js';
import type { Services } from './services.js';

/** Per-request context: the daemon's services and a signal that fires when the request is abandoned
 * (client gone, daemon shutting down), so long waits can stop early. */
export interface RequestContext {
  services: Services;
  signal: AbortSignal;
}

/** A command's implementation; throws CommandError for expected failures. */
export type Handler<K extends CommandName> = (params: ParamsOut<K>, ctx: RequestContext) => Promise<ResultOf<K>> | ResultOf<K>;

/** The complete handler table: a missing handler for any command in the schema table is a type error. */
export type HandlerTable = { [K in CommandName]: Handler<K> };
