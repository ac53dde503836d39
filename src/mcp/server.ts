/**
 * The MCP server: the SDK's low-level `Server` over stdio, with tools/list and tools/call answered
 * from the tool table. Calls are checked here against each tool's schema (the wire's, for tools that
 * are one command), so a bad argument is an `isError` result naming the field, with the daemon's
 * INVALID_PARAMS code, never a protocol error; daemon errors become `isError` results carrying their
 * code. Nothing but protocol messages goes to stdout; the log goes to stderr.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { VERSION } from '../version.js';
import { DaemonLink, type StartDaemon } from './connection.js';
import { errorResult, failureResult, progressTicker } from './results.js';
import { jsonSchemaOf } from './tool.js';
import { TOOLS } from './tools.js';
import { validateParams } from '../protocol/validate.js';
import { ClientError } from '../client/errors.js';

/** What `claude-daemon mcp` passes in. */
export interface McpServerOptions {
  /** The resolved socket path. */
  socket: string;
  /** Starts a daemon when none answers (the CLI's `start --detach`); absent with `--no-start`. */
  startDaemon?: StartDaemon;
  /** One line of log (stderr). */
  log(line: string): void;
  /** Milliseconds between progress notifications of a long call (default 5000: Claude Code wants one at least every 10 s). */
  progressIntervalMs?: number;
}

/** Instructions the client may show the model (Claude Code puts them in the system prompt). */
const INSTRUCTIONS =
  'claude-daemon runs and supervises background processes and headless `claude -p` runs. Fan work out with spawn_claude (several at once), ' +
  'then block on them with wait (never poll), read each outcome with claude_result (or read_output for plain processes), stop one with kill_process. ' +
  'One daemon serves every session: do not start another one, and do not kill node processes to stop runs.';

/** Builds the server and its tool handlers (not yet connected to a transport). */
export function createServer(opts: McpServerOptions): { server: Server; link: DaemonLink } {
  const link = new DaemonLink({ socket: opts.socket, log: opts.log, ...(opts.startDaemon ? { startDaemon: opts.startDaemon } : {}) });
  const server = new Server({ name: 'claude-daemon', version: VERSION }, { capabilities: { tools: {} }, instructions: INSTRUCTIONS });
  // Computed once, on the first tools/list: the schemas never change while the server runs.
  let listed: unknown[] | undefined;
  server.setRequestHandler(ListToolsRequestSchema, () => {
    listed ??= [...TOOLS.values()].map((t) => ({
      name: t.name,
      title: t.annotations.title,
      description: t.description,
      inputSchema: jsonSchemaOf(t.input, 'input', t.fieldDocs),
      outputSchema: jsonSchemaOf(t.output, 'output'),
      annotations: t.annotations,
    }));
    return { tools: listed } as never;
  });
  server.setRequestHandler(CallToolRequestSchema, async (req, extra): Promise<CallToolResult> => {
    const tool = TOOLS.get(req.params.name);
    if (tool === undefined) return errorResult('UNKNOWN_TOOL', `no tool '${req.params.name}'; the tools are ${[...TOOLS.keys()].join(', ')}`);
    const args = req.params.arguments ?? {};
    const checked = validateParams(tool.name, tool.input, args);
    if (!checked.ok) return errorResult('INVALID_PARAMS', checked.message);
    const ticker = progressTicker(extra, tool.name, opts.progressIntervalMs ?? 5000, opts.log);
    try {
      const ctx = { daemon: link, signal: extra.signal, setProgressSource: ticker.setSource };
      let shaped;
      try {
        shaped = await tool.run(args, ctx);
      } catch (err) {
        // The daemon went away under a call that is safe to repeat: reconnect (a kept daemon is back
        // within a second) and run it once more.
        if (!(err instanceof ClientError && (err.kind === 'CONNECTION_LOST' || err.kind === 'CLOSED') && tool.retryable === true)) throw err;
        link.drop();
        opts.log(`${tool.name}: ${err.message}; reconnecting and trying once more`);
        shaped = await tool.run(args, ctx);
      }
      const valid = tool.output.safeParse(shaped.structured);
      if (!valid.success) {
        opts.log(`${tool.name}: result does not match its output schema (a bug): ${valid.error.message}`);
        return errorResult('INTERNAL_ERROR', `the result of ${tool.name} does not match its output schema (a bug in claude-daemon's MCP server): ${valid.error.message}`);
      }
      return { content: [{ type: 'text', text: shaped.text }], structuredContent: shaped.structured };
    } catch (err) {
      if (err instanceof ClientError && (err.kind === 'CONNECTION_LOST' || err.kind === 'CLOSED')) link.drop();
      return failureResult(err, tool.name, link.socket, opts.log);
    } finally {
      ticker.stop();
    }
  });
  return { server, link };
}

/**
 * Runs the server on this process's stdin/stdout until the client closes stdin (or the pipe
 * breaks); resolves then, with the daemon connection closed.
 */
export async function runMcpServer(opts: McpServerOptions): Promise<void> {
  const { server, link } = createServer(opts);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    const done = (): void => resolve();
    process.stdin.once('end', done);
    process.stdin.once('close', done);
    process.stdout.once('error', done);
    server.onclose = done;
  });
  await server.connect(transport);
  // Connect (and start a daemon if none answers) while the client lists tools, so the first call
  // does not pay for it; a failure here is reported by that call.
  link.client().catch(() => undefined);
  await closed;
  link.close();
  await server.close().catch(() => undefined);
}
