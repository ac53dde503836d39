/** The claude commands' handlers (one file per command beside this one). */

/** Spread into the daemon's handler table. */
export const CLAUDE_HANDLERS = {};
