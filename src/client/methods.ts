/**
 * The typed convenience methods of the core commands, on top of `request`. Each domain adds its own
 * methods in its own file (methods-*.ts), chained by inheritance, so adding a command touches its
 * domain's file and not the connection logic.
 */
import type { CommandName, ParamsIn, ResultOf } from '../protocol/commands.js';
import type { RequestOptions } from './client.js';

/** Base of DaemonClient holding the core commands' methods. */
export abstract class CoreMethods {
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
