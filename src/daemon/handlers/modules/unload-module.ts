import type { Handler } from '../../registry.js';

/** `unload_module`: running calls finish first; then the module's `dispose()` runs and its worker ends. */
export const unloadModule: Handler<'unload_module'> = (params, { services }) => services.modules.unload(params.module_name);
