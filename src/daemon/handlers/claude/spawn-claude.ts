import type { ParamsOut } from '../../../protocol/commands.js';
import { isLive, type ClaudeRunInfo } from '../../../protocol/schemas/claude.js';
import type { SpawnResult } from '../../../protocol/schemas/processes.js';
import { buildClaudeArgs, resolveClaudeBin } from '../../claude/argv.js';
import { DEFAULT_PERMISSION_TIMEOUT_S } from '../../claude/permissions.js';
import { sessionOfArgv } from '../../claude/sessions.js';
import { emptyClaudeInfo } from '../../claude/tracker.js';
import { CommandError } from '../../command-error.js';
import { randomHex } from '../../lazy-crypto.js';
import type { Handler } from '../../registry.js';
import type { Services } from '../../services.js';

/**
 * `spawn_claude`: builds the claude command line from typed options and spawns it through the
 * supervisor (so queueing, persistence, re-adoption and tree kills come for free). A run that would
 * write to a session another live run holds is refused before anything starts.
 */
export const spawnClaude: Handler<'spawn_claude'> = (p, ctx) => {
  // A duplicate (idempotency_key) is answered before the session and id checks the first one passed.
  const dup = ctx.services.processes.duplicateOf(p.idempotency_key, () => spawnClaude(p, ctx) as Promise<SpawnResult>);
  return dup ?? spawnNew(p, ctx.services);
};

async function spawnNew(p: ParamsOut<'spawn_claude'>, services: Services): Promise<SpawnResult> {
  const sup = services.processes;
  const runs = services.claude;
  const bin = resolveClaudeBin({ ...process.env, ...p.env });
  const args = buildClaudeArgs(p);
  const id = p.process_id ?? newId((x) => sup.find(x) !== undefined);
  if (sup.find(id) !== undefined) {
    throw new CommandError('PROCESS_EXISTS', `a process with id ${JSON.stringify(id)} already exists; choose another process_id or remove_process it first`);
  }
  const session = sessionOfArgv(['claude', ...args]);
  if (session !== undefined) runs.sessions.acquire(session, id);
  const info: ClaudeRunInfo = emptyClaudeInfo();
  info.stall_timeout_s = p.stall_timeout_s ?? null;
  const live = isLive(p);
  if (live) {
    info.interactive = true;
    info.idle_timeout_s = p.idle_timeout_s ?? null;
    info.turns = [];
    info.input_closed = false;
    runs.live.expect(id, { prompt: p.prompt, idle_timeout_s: p.idle_timeout_s });
  }
  if (p.permissions === 'ask') {
    info.permissions = 'ask';
    info.permission_timeout_s = p.permission_timeout_s ?? DEFAULT_PERMISSION_TIMEOUT_S;
    if (p.auto_allow !== undefined) info.auto_allow = p.auto_allow;
    if (p.auto_deny !== undefined) info.auto_deny = p.auto_deny;
    info.pending_permissions = [];
  }
  try {
    const { group, priority, after, after_condition, start_after_s, start_at, retry } = p;
    const rec = await sup.spawn({ cmd: [bin, ...args], process_id: id, cwd: p.cwd, env: p.env, timeout_s: p.timeout_s, name: p.name, claude: info, stdinFifo: live, group, priority, after, after_condition, start_after_s, start_at, retry, parent: p.parent, idempotency_key: p.idempotency_key, ignore_hold: p.ignore_hold, limit_resume_prompt: p.limit_resume_prompt });
    // Queued by the scheduler: the session takes messages (and keeps its prompt) before it starts.
    if (live && rec.status === 'queued') runs.live.attach(id);
    return rec;
  } catch (err) {
    if (live) runs.live.forget(id);
    // A record that exists now (SPAWN_FAILED) releases its session when it ends; otherwise free it here.
    if (session !== undefined && sup.find(id) === undefined) runs.sessions.releaseAll(id);
    throw err;
  }
}

function newId(taken: (id: string) => boolean): string {
  for (;;) {
    const id = `claude-${randomHex(4)}`;
    if (!taken(id)) return id;
  }
}
