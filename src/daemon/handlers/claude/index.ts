/** The claude commands' handlers (one file per command beside this one). */
import { claudeResult } from './claude-result.js';
import { spawnClaude } from './spawn-claude.js';

/** Spread into the daemon's handler table. */
export const CLAUDE_HANDLERS = {
  spawn_claude: spawnClaude,
  claude_result: claudeResult,
};
