/** The claude verbs (one file each under commands/). */
import type { VerbEntry } from './verbs.js';

/** Spread into the CLI's verb table. */
export const CLAUDE_VERBS: Record<string, VerbEntry> = {
  claude: { summary: 'start a headless `claude -p` run (--wait prints its result)', load: () => import('./commands/claude.js') },
  result: { summary: 'print the final text of a claude run (waits for its end)', load: () => import('./commands/result.js') },
};
