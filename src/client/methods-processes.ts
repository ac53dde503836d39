/** Typed methods of the process commands. */
import { CoreMethods } from './methods.js';

/** Process supervision methods (spawnProcess, listProcesses, ...). */
export abstract class ProcessMethods extends CoreMethods {}
