/** Typed methods of the module commands. */
import type { ParamsIn, ResultOf } from '../protocol/commands.js';
import type { RequestOptions } from './client.js';
import { ClaudeMethods } from './methods-claude.js';
import { withParent } from './lineage.js';

/** Extra time the client waits beyond a call's own deadline, so the daemon's CALL_TIMEOUT arrives first. */
const CALL_REPLY_MARGIN_MS = 5_000;

/** Module methods (loadModule, callFunction, ...). */
export abstract class ModuleMethods extends ClaudeMethods {
  /** Loads a module, or reloads it (always a new version); rejects with MODULE_LOAD_FAILED and the location. */
  loadModule(moduleName: string, opts?: RequestOptions): Promise<ResultOf<'load_module'>> {
    return this.request('load_module', { module_name: moduleName }, opts);
  }

  /**
   * Calls `module.fn(...args)` and resolves with its return value. Loads the module first if needed.
   * `kwargs` bind to parameters by name, in Python and TypeScript/JavaScript alike (see
   * docs/modules.md). `onWarning` hears when an older version served the call because the newest
   * save failed to load. `parent` (lineage): the tracked process the call is made for, by default
   * the one this code runs in (as spawnProcess; `null`: none); spawns the function makes record it.
   */
  callFunction<T = unknown>(
    moduleName: string,
    functionName: string,
    args: unknown[] = [],
    options: { kwargs?: Record<string, unknown>; timeoutS?: number; parent?: string | null } & RequestOptions = {},
  ): Promise<T> {
    const params: ParamsIn<'call_function'> = { module_name: moduleName, function_name: functionName, args };
    if (options.kwargs !== undefined) params.kwargs = options.kwargs;
    if (options.timeoutS !== undefined) params.timeout_s = options.timeoutS;
    if (options.parent !== undefined) params.parent = options.parent;
    const opts: RequestOptions = {};
    if (options.onWarning !== undefined) opts.onWarning = options.onWarning;
    if (options.timeoutMs !== undefined) opts.timeoutMs = options.timeoutMs;
    else if (options.timeoutS !== undefined) opts.timeoutMs = options.timeoutS * 1000 + CALL_REPLY_MARGIN_MS;
    return this.request('call_function', withParent(params), opts) as Promise<T>;
  }

  /** Every loaded module with its version, functions, counters and `last_error`. */
  listModules(opts?: RequestOptions): Promise<ResultOf<'list_modules'>> {
    return this.request('list_modules', {}, opts);
  }

  /** Unloads a module: running calls finish, then its `dispose()` runs. */
  unloadModule(moduleName: string, opts?: RequestOptions): Promise<ResultOf<'unload_module'>> {
    return this.request('unload_module', { module_name: moduleName }, opts);
  }
}
