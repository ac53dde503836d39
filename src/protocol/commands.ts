/**
 * The command table: every command's parameter schema, in one place, so the daemon's registry, the
 * docs test and the client's typed methods all derive from the same list. The client imports only
 * the *types* from here (`import type`), so zod never loads in the CLI. Each domain keeps its
 * schemas in its own file under schemas/.
 */
import type { z } from 'zod';
import { CORE_SCHEMAS, type CoreResults } from './schemas/core.js';
import { PROCESS_SCHEMAS, type ProcessResults } from './schemas/processes.js';
import { CLAUDE_SCHEMAS, type ClaudeResults } from './schemas/claude.js';
import { MODULE_SCHEMAS, type ModuleResults } from './schemas/modules.js';
import { GROUP_SCHEMAS, type GroupResults } from './schemas/scheduling.js';
import { EVENT_SCHEMAS, type EventResults } from './schemas/events.js';

/** Runtime schemas by command name; the daemon validates every request against these. */
export const COMMAND_SCHEMAS = {
  ...CORE_SCHEMAS,
  ...PROCESS_SCHEMAS,
  ...CLAUDE_SCHEMAS,
  ...MODULE_SCHEMAS,
  ...GROUP_SCHEMAS,
  ...EVENT_SCHEMAS,
} as const;

/** Every command name the daemon knows. */
export type CommandName = keyof typeof COMMAND_SCHEMAS;

/** Result type per command, for typed client methods. */
export interface CommandResults extends CoreResults, ProcessResults, ClaudeResults, ModuleResults, GroupResults, EventResults {}

/** Parameters as a client may send them (optional fields optional, defaults not yet applied). */
export type ParamsIn<K extends CommandName> = z.input<(typeof COMMAND_SCHEMAS)[K]>;
/** Parameters as a handler receives them (validated, defaults applied). */
export type ParamsOut<K extends CommandName> = z.output<(typeof COMMAND_SCHEMAS)[K]>;
/** The result a command's handler returns and its client method resolves to. */
export type ResultOf<K extends CommandName> = K extends keyof CommandResults ? CommandResults[K] : never;
