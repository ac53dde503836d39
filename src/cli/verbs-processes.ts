/** The processes verbs (one file each under commands/). */
import type { VerbEntry } from './verbs.js';

/** Spread into the CLI's verb table. */
export const PROCESS_VERBS: Record<string, VerbEntry> = {};
