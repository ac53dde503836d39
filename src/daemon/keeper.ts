/**
 * The daemon's side of its keeper (native/keep.c, `claude-daemon-wrap --keep`), which `start
 * --detach` puts in front of the daemon so that an unexpected death (SIGKILL, OOM, a crash, a stray
 * `pkill node`) is followed by a new daemon within a second. The keeper says who it is in the
 * environment; the daemon tells it "serving" with SIGUSR1 and "stop for good" by its exit status.
 */

/** Environment the keeper sets for the daemon it starts (removed from the daemon's own environment at start, so children never see them). */
export const KEEPER_ENV = {
  pid: 'CLAUDE_DAEMON_KEEPER_PID',
  restarts: 'CLAUDE_DAEMON_KEEPER_RESTARTS',
  lastDeath: 'CLAUDE_DAEMON_KEEPER_LAST_DEATH',
} as const;

/**
 * Exit statuses the keeper understands (the same numbers as in keep.c): 0 after `shutdown` (the
 * keeper stops too), REFUSED when the daemon could not start because another daemon holds its
 * socket or state, or its state directory is unusable (starting again would only fail again), and
 * RESTART after a signal asked a kept daemon to stop (any status but 0 and REFUSED restarts).
 */
export const KEEPER_EXIT = { shutdown: 0, refused: 78, restart: 75 } as const;

/** Who keeps this daemon, as the keeper said when it started it. */
export interface KeeperInfo {
  pid: number;
  /** Daemons the keeper started before this one. */
  restarts: number;
  /** How the previous daemon ended (e.g. `signal 9 (Killed)`), or null for the first. */
  lastDeath: string | null;
}

/** The keeper named in `env`, or undefined when this daemon was not started by one. */
export function keeperFromEnv(env: NodeJS.ProcessEnv): KeeperInfo | undefined {
  const pid = Number(env[KEEPER_ENV.pid]);
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  const restarts = Number(env[KEEPER_ENV.restarts]);
  const lastDeath = env[KEEPER_ENV.lastDeath];
  return { pid, restarts: Number.isInteger(restarts) && restarts >= 0 ? restarts : 0, lastDeath: lastDeath ? lastDeath : null };
}

/** Removes the keeper's variables, so that no child of the daemon inherits them. */
export function forgetKeeperEnv(env: NodeJS.ProcessEnv): void {
  for (const name of Object.values(KEEPER_ENV)) delete env[name];
}

/**
 * The keeper if it still keeps this daemon: it is our parent. A killed keeper leaves the daemon
 * running, reparented, so asking the kernel each time (getppid) tells the truth, and no signal ever
 * goes to a pid that a stranger took over.
 */
export function liveKeeper(info: KeeperInfo | undefined): KeeperInfo | undefined {
  return info !== undefined && process.ppid === info.pid ? info : undefined;
}

/** Tells the keeper that this daemon serves (SIGUSR1): from now on a death is restarted at once. */
export function tellKeeperServing(info: KeeperInfo | undefined): void {
  const k = liveKeeper(info);
  if (k === undefined) return;
  try {
    process.kill(k.pid, 'SIGUSR1');
  } catch {
    // Gone this instant: nothing keeps us any more.
  }
}
