/**
 * Lineage commands over the supervisor's public API (issue 13): `kill_process {cascade}` ends a
 * process and every descendant (records whose `parent` chain leads to it), deepest first; and
 * `remove_process` refuses a record with live descendants unless `cascade`, which ends and removes
 * the whole subtree. Kept out of the kill ladder (kill.ts): this only orders calls to `kill` and
 * `remove`, each of which runs the ladder of one process as it always does.
 */
import type { KillResult, RemoveProcessResult } from '../../protocol/schemas/processes.js';
import { CommandError } from '../command-error.js';
import type { KillRequest } from './kill.js';
import type { ProcessSupervisor } from './supervisor.js';

/** Rounds of "kill what is live, look again" before giving up on a tree that keeps growing. */
const MAX_ROUNDS = 20;

/** True when `id` still needs a kill: queued or running, or ended with leftovers still alive. */
function needsKill(sup: ProcessSupervisor, id: string): boolean {
  const r = sup.find(id);
  if (r === undefined) return false;
  return r.status === 'queued' || r.status === 'running' || sup.lingering(id);
}

/**
 * Ends every live descendant of `id`, deepest level first (each level's kills run side by side);
 * queued ones are dropped before anything is killed, so no slot freed by the kills starts one. A
 * descendant spawned meanwhile (its parent still ran) is found by the next round.
 */
async function killDescendants(sup: ProcessSupervisor, id: string, req: KillRequest, ended: string[]): Promise<void> {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const levels = sup.lineage.levels(id).map((l) => l.filter((x) => needsKill(sup, x)));
    if (levels.every((l) => l.length === 0)) return;
    for (const x of levels.flat()) {
      if (sup.find(x)?.status === 'queued') {
        await sup.kill(x, req);
        ended.push(x);
      }
    }
    for (let d = levels.length - 1; d >= 0; d--) {
      const live = levels[d]!.filter((x) => needsKill(sup, x));
      await Promise.all(live.map((x) => sup.kill(x, req).catch((err: unknown) => {
        if (!(err instanceof CommandError && err.code === 'PROCESS_NOT_FOUND')) throw err;
      })));
      ended.push(...live);
    }
  }
}

/** `kill_process {cascade: true}`: descendants deepest first, then the process itself, then any descendant born meanwhile. */
export async function killCascade(sup: ProcessSupervisor, id: string, req: KillRequest): Promise<KillResult> {
  sup.get(id); // PROCESS_NOT_FOUND before anything is killed.
  const ended: string[] = [];
  await killDescendants(sup, id, req, ended);
  const rec = await sup.kill(id, req);
  await killDescendants(sup, id, req, ended);
  return { ...rec, cascade: [...new Set(ended)] };
}

/**
 * `remove_process`: refused with PROCESS_HAS_DESCENDANTS while a descendant is queued or running
 * (unless `cascade`); with `cascade`, the subtree is ended (as killCascade) and every record in it
 * removed, deepest first, then the process itself.
 */
export async function removeWithLineage(sup: ProcessSupervisor, id: string, cascade: boolean): Promise<RemoveProcessResult> {
  const rec = sup.get(id);
  if (!cascade) {
    if (rec.status === 'queued' || rec.status === 'running') return sup.remove(id); // PROCESS_RUNNING, as before
    const live = sup.lineage.levels(id).flat().filter((x) => {
      const s = sup.find(x)?.status;
      return s === 'queued' || s === 'running';
    });
    if (live.length > 0) {
      throw new CommandError('PROCESS_HAS_DESCENDANTS', `process ${id} has ${live.length} live descendant${live.length === 1 ? '' : 's'} (${live.slice(0, 5).join(', ')}${live.length > 5 ? ', ...' : ''}); end them first, or pass cascade: true (CLI: rm --cascade) to end and remove the whole tree`);
    }
    return sup.remove(id);
  }
  await killCascade(sup, id, {});
  const removed: string[] = [];
  const levels = sup.lineage.levels(id);
  for (let d = levels.length - 1; d >= 0; d--) {
    for (const x of levels[d]!) {
      try {
        await sup.remove(x);
        removed.push(x);
      } catch (err) {
        if (!(err instanceof CommandError && err.code === 'PROCESS_NOT_FOUND')) throw err;
      }
    }
  }
  return { ...(await sup.remove(id)), cascade: removed };
}
