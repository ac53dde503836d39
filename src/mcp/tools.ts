/** Every tool of the server, in the order tools/list shows them. */
import { CLAUDE_TOOLS } from './tools-claude.js';
import { CORE_TOOLS } from './tools-core.js';
import { GROUP_TOOLS } from './tools-groups.js';
import { MODULE_TOOLS } from './tools-modules.js';
import { PROCESS_TOOLS } from './tools-processes.js';
import { SESSION_TOOLS } from './tools-sessions.js';
import { WAIT_TOOLS } from './tools-wait.js';
import type { ToolDef } from './tool.js';

/** The tools' names (they reach the model as `mcp__claude-daemon__<name>`): stable API, like wire commands. */
export const TOOL_NAMES = [
  'spawn_claude', 'spawn_process', 'list_processes', 'process_info', 'read_output', 'wait', 'claude_result',
  'kill_process', 'remove_process', 'load_module', 'call_function', 'list_modules', 'ping',
  'send_message', 'interrupt', 'close_input', 'group_list', 'group_set',
] as const;

const ALL: ToolDef[] = [...CLAUDE_TOOLS, ...PROCESS_TOOLS, ...WAIT_TOOLS, ...MODULE_TOOLS, ...CORE_TOOLS, ...SESSION_TOOLS, ...GROUP_TOOLS];

/** The tools by name, in TOOL_NAMES order (a tool defined but not named there is a mistake: it throws here). */
export const TOOLS: ReadonlyMap<string, ToolDef> = new Map(
  TOOL_NAMES.map((name) => {
    const t = ALL.find((d) => d.name === name);
    if (t === undefined) throw new Error(`no tool definition for ${name}`);
    return [name, t];
  }),
);
if (ALL.length !== TOOLS.size) throw new Error('a tool is defined but not listed in TOOL_NAMES');
