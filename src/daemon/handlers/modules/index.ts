/** The modules commands' handlers (one file per command beside this one). */
import { callFunction } from './call-function.js';
import { listModules } from './list-modules.js';
import { loadModule } from './load-module.js';
import { unloadModule } from './unload-module.js';

/** Spread into the daemon's handler table. */
export const MODULE_HANDLERS = {
  load_module: loadModule,
  call_function: callFunction,
  list_modules: listModules,
  unload_module: unloadModule,
};
