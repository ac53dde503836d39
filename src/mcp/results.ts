/**
 * How failures and long calls look to the MCP client: every failure is an `isError` tool result
 * whose text starts with a stable code (the daemon's wire code, or NO_DAEMON, CONNECTION_LOST,
 * TIMEOUT, INVALID_PARAMS, UNKNOWN_TOOL, INTERNAL_ERROR), and a call that runs long sends
 * `notifications/progress` so Claude Code neither gives up on it nor leaves the user guessing.
 */
import type { CallToolResult, ServerNotification } from '@modelcontextprotocol/sdk/types.js';
import { ClientError, DaemonError } from '../client/errors.js';
import { NoDaemonError } from './connection.js';
import { duration } from './summaries.js';
import type { Progress } from './tool.js';

/** An `isError` result: `CODE: message`. */
export function errorResult(code: string, message: string): CallToolResult {
  return { content: [{ type: 'text', text: `${code}: ${message}` }], isError: true };
}

/** Any failure of a tool call as an `isError` result; an unexpected one (a bug) is logged with its stack. */
export function failureResult(err: unknown, tool: string, socket: string, log: (line: string) => void): CallToolResult {
  if (err instanceof DaemonError) return errorResult(err.code, err.message);
  if (err instanceof NoDaemonError) return errorResult('NO_DAEMON', err.message);
  if (err instanceof ClientError) {
    if (err.kind === 'NO_DAEMON') return errorResult('NO_DAEMON', `${err.message}; start one with \`claude-daemon start --detach --socket ${socket}\`, then call again`);
    if (err.kind === 'CONNECTION_LOST' || err.kind === 'CLOSED') {
      return errorResult(
        'CONNECTION_LOST',
        `the connection to the daemon on ${socket} broke during ${tool} (${err.message}); the daemon may have restarted. The next call reconnects; check list_processes before repeating a spawn or kill.`,
      );
    }
    return errorResult(err.kind, err.message);
  }
  log(`${tool}: unexpected failure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  return errorResult('INTERNAL_ERROR', `${tool} failed unexpectedly (a bug in claude-daemon's MCP server): ${err instanceof Error ? err.message : String(err)}`);
}

/** The parts of the SDK's request context the ticker uses. */
interface RequestExtra {
  _meta?: { progressToken?: string | number } & Record<string, unknown>;
  sendNotification(n: ServerNotification): Promise<void>;
}

/**
 * Sends a progress notification every `intervalMs` while a call runs, when its request carried a
 * progressToken. `progress` strictly grows, as the spec requires, even while nothing finishes: it
 * is the source's count plus a fraction that creeps towards 1 and restarts when the count moves.
 */
export function progressTicker(extra: RequestExtra, tool: string, intervalMs: number, log: (line: string) => void): { setSource(s: () => Promise<Progress>): void; stop(): void } {
  const token = extra._meta?.progressToken;
  let source: (() => Promise<Progress>) | undefined;
  if (token === undefined) return { setSource: (s) => void (source = s), stop: () => undefined };
  const started = Date.now();
  let busy = false;
  let stopped = false;
  let base = -1;
  let ticks = 0;
  const tick = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      let p: Progress;
      try {
        p = source !== undefined ? await source() : { message: `${tool} running for ${duration(Date.now() - started)}` };
      } catch {
        p = { message: `${tool} running for ${duration(Date.now() - started)}` };
      }
      if (stopped) return;
      const count = p.progress ?? 0;
      if (count > base) {
        base = count;
        ticks = 0;
      } else ticks++;
      const value = base + 1 - 1 / (ticks + 1);
      await extra.sendNotification({
        method: 'notifications/progress',
        params: { progressToken: token, progress: value, ...(p.total !== undefined ? { total: p.total } : {}), message: p.message },
      });
    } catch (err) {
      log(`${tool}: could not send progress: ${(err as Error).message}`);
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), intervalMs);
  return {
    setSource: (s) => void (source = s),
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}
