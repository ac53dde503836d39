/**
 * The process supervisor's entry: creates the supervisor and, before the daemon serves anything,
 * re-adopts the children that survived the previous daemon and recovers the outcome of those that
 * ended meanwhile. See supervisor.ts for the hooks other domains use.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DaemonConfig } from '../config.js';
import type { Logger } from '../log.js';
import { ensureStateSubdir } from '../state/home.js';
import { findWrapper, pinWrapper } from './launch.js';
import { detectPidsLimit, sweepCgroups } from './pids-limit.js';
import { recoverOrphan } from './recover.js';
import { loadAll, trashDir } from './store.js';
import { isSafeId, ProcessSupervisor } from './supervisor.js';

export { ProcessSupervisor, type RecordSlimmer, type SpawnSpec, type SupervisorEvents, type TotalsContributor } from './supervisor.js';
export type { KillPlanner, KillRequest, KillStep } from './kill.js';
export type { Entry } from './entry.js';

/** The supervisor as the rest of the daemon sees it. */
export type Supervisor = ProcessSupervisor;

/**
 * Creates the supervisor for this daemon's state directory and restores its records. With
 * `deferQueue`, queued processes wait for `openQueue()` (the daemon calls it once it listens).
 */
export async function createSupervisor(config: DaemonConfig, log: Logger, opts: { deferQueue?: boolean } = {}): Promise<Supervisor> {
  const root = ensureStateSubdir(config.home, 'processes');
  const wrapper = pinWrapper(findWrapper());
  if (wrapper === undefined) log.warn('process wrapper claude-daemon-wrap not found: spawns will fail; rebuild with `node scripts/build.mjs` (needs a C compiler)');
  const pidsLimit = detectPidsLimit(config.maxPids, root, log);
  log.info(`children are limited to ${pidsLimit.max} processes/threads each (${pidsLimit.mechanism})`);
  const retention = { maxCount: config.keepEnded, maxAgeMs: config.keepEndedForS * 1000 };
  const sup = new ProcessSupervisor({ root, wrapper, maxRunning: config.maxRunning, pidsLimit, log, retention, home: config.home, budgetUsd: config.budgetUsd, ...(config.holdAtUtilization !== undefined ? { holdAtUtilization: config.holdAtUtilization } : {}) });
  const t0 = Date.now();
  // What a removal moved aside but did not get to delete before the previous daemon died.
  fs.rmSync(trashDir(root), { recursive: true, force: true });
  const { stored, orphans } = loadAll(root, (m) => log.warn(m));
  let seq = stored.at(-1)?.seq ?? 0;
  for (const name of orphans) {
    if (!isSafeId(name) || !fs.statSync(path.join(root, name), { throwIfNoEntry: false })?.isDirectory()) {
      log.warn(`ignoring ${path.join(root, name)}: not a process directory`);
      continue;
    }
    const s = await recoverOrphan(root, name, ++seq, log).catch((err: unknown) => log.error(`recovering ${name}`, err));
    if (s) stored.push(s);
  }
  await Promise.all(stored.map((s) => sup.restore(s)));
  // Retention at start: what is over the count or the age goes before the daemon serves.
  const before = sup.recordCount;
  sup.indexEnded();
  await sup.retentionSettled();
  const expired = before - sup.recordCount;
  if (expired > 0) log.info(`retention removed ${expired} ended records (keeping at most ${config.keepEnded || 'any number of'} ended records, none older than ${config.keepEndedForS > 0 ? `${config.keepEndedForS} s` : 'any age'})`);
  sweepCgroups(pidsLimit, new Set(sup.list('running').processes.map((p) => p.process_id)));
  // The daemon opens the queue only once it serves: a daemon that fails to start runs nothing.
  if (opts.deferQueue !== true) sup.openQueue();
  const counts = sup.list().totals;
  if (stored.length > 0) log.info(`restored ${stored.length} process records in ${Date.now() - t0} ms (running ${counts['running']}, queued ${counts['queued']})`);
  return sup;
}
