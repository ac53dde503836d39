// Protocol layer surface for other layers: framing, envelope, paths, codes (no zod here).
export * from './envelope.js';
export * from './errors.js';
export * from './framing.js';
export * from './paths.js';
export type { CommandName, CommandResults, ParamsIn, ParamsOut, ResultOf } from './commands.js';
