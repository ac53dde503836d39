/** Parameters and results of the processes commands (filled in by the processes issue). */

/** This domain's schemas, spread into the command table. */
export const PROCESS_SCHEMAS = {} as const;

/** Results of this domain's commands, by command name. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ProcessResults {}
