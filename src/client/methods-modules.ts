/** Typed methods of the module commands. */
import { ClaudeMethods } from './methods-claude.js';

/** Module methods (loadModule, callFunction, ...). */
export abstract class ModuleMethods extends ClaudeMethods {}
