/** Parameters and results of the claude commands (filled in by the claude issue). */

/** This domain's schemas, spread into the command table. */
export const CLAUDE_SCHEMAS = {} as const;

/** Results of this domain's commands, by command name. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ClaudeResults {}
