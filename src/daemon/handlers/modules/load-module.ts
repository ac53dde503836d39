import type { Handler } from '../../registry.js';

/** `load_module`: an explicit load always makes a new version, even of unchanged content. */
export const loadModule: Handler<'load_module'> = (params, { services }) => services.modules.load(params.module_name);
