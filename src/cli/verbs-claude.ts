/** The claude verbs (one file each under commands/). */
import type { VerbEntry } from './verbs.js';

/** Spread into the CLI's verb table. */
export const CLAUDE_VERBS: Record<string, VerbEntry> = {
  claude: { summary: 'start a headless `claude -p` run (--wait prints its result)', load: () => import('./commands/claude.js') },
  send: { summary: 'queue a user turn for a live claude session (claude --interactive)', load: () => import('./commands/send.js') },
  interrupt: { summary: "stop a live claude session's running turn (the session stays)", load: () => import('./commands/interrupt.js') },
  'close-input': { summary: 'end a live claude session after its queued turns', load: () => import('./commands/close-input.js') },
  answer: { summary: "allow or deny a pending permission prompt of a claude run (claude --ask-permissions)", load: () => import('./commands/answer.js') },
  result: { summary: 'print the final text of a claude run (waits for its end)', load: () => import('./commands/result.js') },
};
