/**
 * `wait`: blocks until any or all of several processes have ended, or a timeout passes, without the
 * model polling. It rides on the daemon's `wait_process`, one per id, on a connection of its own so
 * that ending the call early (mode `any`, a cancel) ends the daemon-side waits with it.
 */
import { z } from 'zod';
import type { DaemonClient } from '../client/client.js';
import { ENDED_STATUSES, ProcessId, type ProcessRecord } from '../protocol/schemas/processes.js';
import { WaitOut } from './outputs.js';
import { recordLine, waitProgress } from './summaries.js';
import { defineTool, wire, type ToolContext, type ToolDef } from './tool.js';

/** Default and longest wait, in seconds. */
export const WAIT_DEFAULT_S = 300;
export const WAIT_MAX_S = 1800;

/** The most process ids one wait takes. */
const MAX_IDS = 256;

const WaitIn = z.object({
  process_ids: z.array(ProcessId).min(1, 'must name at least one process').max(MAX_IDS),
  mode: z.enum(['any', 'all']).optional(),
  timeout_s: z.number().nonnegative().max(WAIT_MAX_S).optional(),
});

const ended = (r: ProcessRecord): boolean => ENDED_STATUSES.has(r.status);

const waitTool = defineTool({
  name: 'wait',
  description: `Block until the given processes have ended (mode "all", the default) or any one of them has (mode "any"), or timeout_s passes (default ${WAIT_DEFAULT_S}, at most ${WAIT_MAX_S}); sends progress while it waits. Returns the records, ended ones first, and the ids still running (wait again for those). Use it instead of polling list_processes or process_info; then claude_result or read_output.`,
  input: WaitIn,
  output: WaitOut,
  annotations: { title: 'Wait for processes', readOnlyHint: true, openWorldHint: false },
  fieldDocs: {
    process_ids: 'the processes to wait for (process_id of spawn_claude or spawn_process)',
    mode: '"all" (default): until every one has ended; "any": until the first one has',
    timeout_s: `give up after this many seconds (default ${WAIT_DEFAULT_S}, at most ${WAIT_MAX_S}); the processes keep running`,
  },
  retryable: true,
  async run(raw, ctx) {
    const p = WaitIn.parse(raw);
    const ids = [...new Set(p.process_ids)];
    const mode = p.mode ?? 'all';
    const timeout = p.timeout_s ?? WAIT_DEFAULT_S;
    // Unknown ids fail the call at once, with the daemon's PROCESS_NOT_FOUND.
    const latest = new Map<string, ProcessRecord>(await Promise.all(ids.map(async (id) => [id, await wire(ctx, 'process_info', { process_id: id })] as const)));
    const order = ids.filter((id) => ended(latest.get(id)!));
    const satisfied = (): boolean => (mode === 'any' ? order.length > 0 : order.length === ids.length);
    const running = (): string[] => ids.filter((id) => !order.includes(id));
    ctx.setProgressSource(async () => {
      await refresh(ctx, running(), latest, order);
      return { message: waitProgress(ids.length, order.length, running().map((id) => latest.get(id)!)), progress: order.length, total: ids.length };
    });
    if (!satisfied() && timeout > 0) {
      const conn = await ctx.daemon.dedicated();
      try {
        await waitOn(conn, running(), timeout, ctx.signal, (r) => {
          latest.set(r.process_id, r);
          if (ended(r) && !order.includes(r.process_id)) order.push(r.process_id);
          return satisfied();
        });
      } finally {
        conn.close();
      }
    }
    await refresh(ctx, running(), latest, order);
    const still = running();
    const timedOut = !satisfied();
    const records = [...order, ...still].map((id) => latest.get(id)!);
    const head = timedOut
      ? `timed out after ${timeout}s: ${order.length} of ${ids.length} ended`
      : mode === 'any' && order.length < ids.length
        ? `${order.length} of ${ids.length} ended`
        : `all ${ids.length} ended`;
    const next = still.length > 0 ? [`still running: ${still.join(', ')} (wait again for them)`] : [];
    return {
      structured: { mode, timed_out: timedOut, ended: [...order], still_running: still, processes: records },
      text: [head, ...records.map(recordLine), ...next].join('\n'),
    };
  },
});

/**
 * Sends one `wait_process` per id and resolves once `onEnd` says enough have ended, every wait has
 * answered (ended or timed out), or the call is cancelled.
 */
function waitOn(conn: DaemonClient, ids: string[], timeoutS: number, signal: AbortSignal, onEnd: (r: ProcessRecord) => boolean): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let outstanding = ids.length;
    const finish = (): void => {
      signal.removeEventListener('abort', finish);
      resolve();
    };
    signal.addEventListener('abort', finish);
    for (const id of ids) {
      conn.waitProcess({ process_id: id, timeout_s: timeoutS }).then(
        (r) => {
          if (onEnd(r) || --outstanding === 0) finish();
        },
        (err: unknown) => {
          signal.removeEventListener('abort', finish);
          reject(err);
        },
      );
    }
  });
}

/** Fetches the current records of `ids`; any that ended meanwhile join `order`. */
async function refresh(ctx: ToolContext, ids: string[], latest: Map<string, ProcessRecord>, order: string[]): Promise<void> {
  const fresh = await Promise.all(ids.map((id) => wire(ctx, 'process_info', { process_id: id })));
  for (const r of fresh) {
    latest.set(r.process_id, r);
    if (ended(r) && !order.includes(r.process_id)) order.push(r.process_id);
  }
}

/** The wait tool. */
export const WAIT_TOOLS: ToolDef[] = [waitTool];
