/** The claude verbs (one file each under commands/). */
import type { VerbEntry } from './verbs.js';

/** Spread into the CLI's verb table. */
export const CLAUDE_VERBS: Record<string, VerbEntry> = {};
