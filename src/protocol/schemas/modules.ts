/** Parameters and results of the modules commands (filled in by the modules issue). */

/** This domain's schemas, spread into the command table. */
export const MODULE_SCHEMAS = {} as const;

/** Results of this domain's commands, by command name. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ModuleResults {}
