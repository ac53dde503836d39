/** Typed methods of the claude-run commands. */
import { ProcessMethods } from './methods-processes.js';

/** `claude -p` run methods (spawnClaude, claudeResult, ...). */
export abstract class ClaudeMethods extends ProcessMethods {}
