import type { Handler } from '../../registry.js';

/** `list_modules`: loaded modules with their serving version, counters and any newer file's load error. */
export const listModules: Handler<'list_modules'> = (_params, { services }) => services.modules.list();
