/**
 * `mcp`: runs the stdio MCP server (src/mcp) that gives Claude Code the daemon's commands as typed
 * tools. The server itself (the MCP SDK and zod) is imported only here, so no other verb pays for it.
 * A daemon that is not running is started in the background the way `start --detach` starts it.
 */
import { resolveSocketPath } from '../../protocol/paths.js';
import type { Verb } from '../verb.js';
import { startDetached } from './start.js';

/** Environment variable: milliseconds between progress notifications of long tool calls (tests shorten it). */
export const PROGRESS_ENV = 'CLAUDE_DAEMON_MCP_PROGRESS_MS';

/** `mcp`: the MCP server on stdin/stdout until the client closes it. */
export const verb: Verb = {
  usage: 'mcp [--socket PATH] [--home DIR] [--no-start]',
  description:
    "Runs an MCP server on stdin/stdout (for Claude Code: `claude mcp add claude-daemon -- npx claude-daemon mcp`) whose tools are the daemon's commands. If no daemon answers on the socket it starts one in the background, as `start --detach` does (with --home for its state directory), and logs that on stderr; stdout carries only MCP messages.",
  help: [
    '  --socket PATH  the daemon\'s socket (else $CLAUDE_DAEMON_SOCKET, else /tmp/claude_daemon.sock)',
    '  --home DIR     state directory of a daemon this starts (else $CLAUDE_DAEMON_HOME, else the default)',
    '  --no-start     never start a daemon: tool calls say how to start one instead',
    `  $${PROGRESS_ENV}  milliseconds between progress notifications of a long call (default 5000)`,
  ],
  options: { home: { type: 'string' }, 'no-start': { type: 'boolean' } },
  async run(ctx) {
    const socket = resolveSocketPath(ctx.socket, process.env);
    const home = typeof ctx.values['home'] === 'string' ? ctx.values['home'] : undefined;
    const log = (line: string): void => ctx.out.stderr(`claude-daemon mcp: ${line}\n`);
    const interval = Number(process.env[PROGRESS_ENV]);
    const { runMcpServer } = await import('../../mcp/server.js');
    await runMcpServer({
      socket,
      log,
      ...(Number.isFinite(interval) && interval > 0 ? { progressIntervalMs: interval } : {}),
      ...(ctx.values['no-start'] === true
        ? {}
        : {
            startDaemon: async () => {
              const startArgs = ['--socket', socket, ...(home !== undefined ? ['--home', home] : [])];
              try {
                const r = await startDetached({ socket, ...(home !== undefined ? { home } : {}) }, { startArgs, keeper: true });
                return r.ok ? { ok: true as const, pid: r.pid } : r;
              } catch (err) {
                // E.g. the state directory cannot be made: a failed start like any other.
                return { ok: false as const, message: (err as Error).message };
              }
            },
          }),
    });
    return 0;
  },
};
