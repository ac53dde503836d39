/**
 * How a command plugs in: a handler per command name, typed from the protocol's schema table, so
 * adding a command is a schema in src/protocol and a file in handlers/ (the compiler insists on both).
 */
import type { CommandName, ParamsOut, ResultOf } from '../protocol/commands.js';
import type { Subscriber } from './events/index.js';
import type { Services } from './services.js';
import type { StreamedResult } from './streamed-result.js';

/** Per-request context: the daemon's services and a signal that fires when the request is abandoned
 * (client gone, daemon shutting down), so long waits can stop early. */
export interface RequestContext {
  services: Services;
  signal: AbortSignal;
  /**
   * Waits for this request's turn to produce a big reply (one at a time per connection, while less
   * than its reply budget is unsent); handlers whose reply size the client chooses call it before
   * reading anything. Absent outside a connection.
   */
  replyTurn?: () => Promise<void>;
  /**
   * Waits for one of the connection's result slots (RESULT_SLOTS at once, held until the reply is
   * written); handlers whose result is made in memory before it can be counted (`call_function`, a
   * claude run's full text) call it before making it. Absent outside a connection.
   */
  resultSlot?: () => Promise<void>;
  /** The connection's event subscription (`watch`/`unwatch`), made on first use. Absent outside a connection. */
  events?: () => Subscriber;
  /** Runs `fn` once this request's reply is written (a watch's events follow its reply). Absent outside a connection. */
  afterReply?: (fn: () => void) => void;
}

/**
 * A command's implementation; throws CommandError for expected failures. An asynchronous one may
 * resolve with a StreamedResult standing for its result, which the connection writes in pieces.
 */
export type Handler<K extends CommandName> = (params: ParamsOut<K>, ctx: RequestContext) => Promise<ResultOf<K> | StreamedResult> | ResultOf<K>;

/** The complete handler table: a missing handler for any command in the schema table is a type error. */
export type HandlerTable = { [K in CommandName]: Handler<K> };
