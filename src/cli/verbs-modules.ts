/** The modules verbs (one file each under commands/). */
import type { VerbEntry } from './verbs.js';

/** Spread into the CLI's verb table. */
export const MODULE_VERBS: Record<string, VerbEntry> = {
  load: { summary: 'load or reload a module from the modules directory', load: () => import('./commands/load.js') },
  call: { summary: "call a module's function: call MODULE FUNCTION [ARGS...]", load: () => import('./commands/call.js') },
  modules: { summary: 'list loaded modules, their versions and load errors', load: () => import('./commands/modules.js') },
  unload: { summary: 'unload a module (running calls finish first)', load: () => import('./commands/unload.js') },
};
