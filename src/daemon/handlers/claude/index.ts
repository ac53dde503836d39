/** The claude commands' handlers (one file per command beside this one). */
import { answerPermission } from './answer-permission.js';
import { claudeResult } from './claude-result.js';
import { closeInput } from './close-input.js';
import { interrupt } from './interrupt.js';
import { sendMessage } from './send-message.js';
import { spawnClaude } from './spawn-claude.js';

/** Spread into the daemon's handler table. */
export const CLAUDE_HANDLERS = {
  spawn_claude: spawnClaude,
  claude_result: claudeResult,
  send_message: sendMessage,
  interrupt,
  close_input: closeInput,
  answer_permission: answerPermission,
};
