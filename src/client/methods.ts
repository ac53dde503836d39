/**
 * The typed convenience methods, one per command, on top of `request`. Kept apart from the transport
 * so that adding a command touches this file and not the connection logic.
 */
import type { CommandName, ParamsIn, ResultOf } from '../protocol/commands.js';
import type { RequestOptions } from './client.js';

/** Base class of DaemonClient holding the per-command methods. */
export abstract class CommandMethods {
  abstract request<K extends CommandName>(command: K, params?: ParamsIn<K>, opts?: RequestOptions): Promise<ResultOf<K>>;

  /** Liveness and identity of the daemon. */
  ping(opts?: RequestOptions): Promise<ResultOf<'ping'>> {
    return this.request('ping', {}, opts);
  }

  /** Asks the daemon to stop; children keep running unless `kill_processes` is true. */
  shutdown(params: ParamsIn<'shutdown'> = {}, opts?: RequestOptions): Promise<ResultOf<'shutdown'>> {
    return this.request('shutdown', params, opts);
  }
}
