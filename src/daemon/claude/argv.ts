/**
 * Builds the command line of a `spawn_claude` request, and finds the `claude` binary. Kept apart
 * from the handler so the exact flags can be unit-tested against the CLI's `--help` without
 * spawning anything.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { isLive, type SpawnClaudeParams } from '../../protocol/schemas/claude.js';
import { CommandError } from '../command-error.js';

type SpawnClaude = z.output<typeof SpawnClaudeParams>;

/**
 * `claude -p --output-format stream-json --verbose [flags...] [extra_args...] -- PROMPT`; a live
 * session (`interactive`) adds `--input-format stream-json` and takes its prompt on stdin instead.
 * The prompt goes after `--` so a prompt starting with `-` is never read as a flag, and so the
 * variadic flags (`--allowedTools a b`, `--mcp-config x y`) cannot swallow it.
 */
export function buildClaudeArgs(p: SpawnClaude): string[] {
  const args = isLive(p) ? ['-p', '--input-format', 'stream-json', '--output-format', 'stream-json', '--verbose'] : ['-p', '--output-format', 'stream-json', '--verbose'];
  const opt = (flag: string, value: string | number | undefined): void => {
    if (value !== undefined) args.push(flag, String(value));
  };
  // Permission prompts come to the host as `can_use_tool` control requests on stdout (permissions.ts).
  if (p.permissions === 'ask') args.push('--permission-prompt-tool', 'stdio');
  opt('--model', p.model);
  opt('--system-prompt', p.system_prompt);
  opt('--append-system-prompt', p.append_system_prompt);
  if (p.allowed_tools && p.allowed_tools.length > 0) args.push('--allowedTools', ...p.allowed_tools);
  if (p.disallowed_tools && p.disallowed_tools.length > 0) args.push('--disallowedTools', ...p.disallowed_tools);
  opt('--permission-mode', p.permission_mode);
  opt('--max-turns', p.max_turns);
  if (p.mcp_config !== undefined) {
    const configs = typeof p.mcp_config === 'string' ? [p.mcp_config] : Array.isArray(p.mcp_config) ? p.mcp_config : [JSON.stringify(p.mcp_config)];
    args.push('--mcp-config', ...configs);
  }
  opt('--resume', p.resume);
  opt('--session-id', p.session_id);
  opt('--max-budget-usd', p.max_budget_usd);
  if (p.json_schema !== undefined) args.push('--json-schema', typeof p.json_schema === 'string' ? p.json_schema : JSON.stringify(p.json_schema));
  if (p.extra_args) args.push(...p.extra_args);
  // A live session reads its turns (the prompt too) from stdin: no prompt argument.
  if (!isLive(p) && p.prompt !== undefined) args.push('--', p.prompt);
  return args;
}

/**
 * Caps a claude command line's `--max-budget-usd` at `left` dollars (keeps a smaller value it has):
 * replaces the flag's value before `--`, or adds the flag after the binary. Idempotent.
 */
export function capBudgetArgv(cmd: string[], left: number): void {
  const end = cmd.indexOf('--');
  const stop = end === -1 ? cmd.length : end;
  const amount = Math.floor(left * 1e8) / 1e8;
  const text = amount.toFixed(8).replace(/0+$/, '').replace(/\.$/, '');
  for (let i = 1; i < stop; i++) {
    const a = cmd[i]!;
    if (a === '--max-budget-usd' && i + 1 < stop) {
      const own = Number(cmd[i + 1]);
      if (!(Number.isFinite(own) && own <= amount)) cmd[i + 1] = text;
      return;
    }
    if (a.startsWith('--max-budget-usd=')) {
      const own = Number(a.slice('--max-budget-usd='.length));
      if (!(Number.isFinite(own) && own <= amount)) cmd[i] = `--max-budget-usd=${text}`;
      return;
    }
  }
  cmd.splice(1, 0, '--max-budget-usd', text);
}

/** How to get the CLI, said in every CLAUDE_NOT_FOUND message. */
const INSTALL_HINT =
  'restart the daemon with CLAUDE_BIN set (`claude-daemon shutdown`, then `CLAUDE_BIN=/path/to/claude claude-daemon start`; running processes keep running), or pass CLAUDE_BIN in the request\'s env; to install claude: `npm install -g @anthropic-ai/claude-code` (or `npm ci` in this repository)';

/**
 * The binary to run: `CLAUDE_BIN` if set (it must be executable), else `claude` on `PATH`, from the
 * environment the child will get (the daemon's, overlaid with the request's `env`).
 */
export function resolveClaudeBin(env: NodeJS.ProcessEnv): string {
  const explicit = env['CLAUDE_BIN'];
  if (explicit !== undefined && explicit !== '') {
    if (isExecutable(explicit)) return path.resolve(explicit);
    throw new CommandError('CLAUDE_NOT_FOUND', `CLAUDE_BIN is ${explicit}, which is not an executable file (the daemon's environment overlaid with the request's env); ${INSTALL_HINT}`);
  }
  for (const dir of (env['PATH'] ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, 'claude');
    if (isExecutable(candidate)) return candidate;
  }
  throw new CommandError('CLAUDE_NOT_FOUND', `the daemon (pid ${process.pid}) found no \`claude\` on its PATH (${env['PATH'] ?? ''}) and CLAUDE_BIN is not set in its environment (the daemon looks, not the shell that asked); ${INSTALL_HINT}`);
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
