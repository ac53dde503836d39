/**
 * The verb table: a one-line summary each (for `--help`) and a lazy loader, so starting the CLI costs
 * the same whichever verb runs. Each domain lists its verbs in its own verbs-*.ts.
 */
import type { Verb } from './verb.js';
import * as pingVerb from './commands/ping.js';
import { PROCESS_VERBS } from './verbs-processes.js';
import { CLAUDE_VERBS } from './verbs-claude.js';
import { MODULE_VERBS } from './verbs-modules.js';

/** A verb as the table knows it before loading it. */
export interface VerbEntry {
  summary: string;
  load: () => Promise<{ verb: Verb }>;
}

/** Every CLI verb, in the order `--help` lists them. */
export const VERBS: Record<string, VerbEntry> = {
  start: { summary: 'start the daemon (foreground; --detach for background)', load: () => import('./commands/start.js') },
  // `ping` is the hottest verb (agents call it from shells to check liveness): bundled in statically,
  // because a dynamic import costs a few milliseconds of the few dozen a whole `ping` takes.
  ping: { summary: 'check that the daemon answers', load: () => Promise.resolve(pingVerb) },
  shutdown: { summary: 'stop the daemon (children keep running unless --kill-processes)', load: () => import('./commands/shutdown.js') },
  ...PROCESS_VERBS,
  ...CLAUDE_VERBS,
  ...MODULE_VERBS,
  mcp: { summary: 'run an MCP server on stdio whose tools are the daemon\'s commands (for Claude Code)', load: () => import('./commands/mcp.js') },
  request: { summary: 'send any command by its wire name with JSON parameters; prints the result', load: () => import('./commands/request.js') },
};
