/**
 * Where the daemon listens and keeps its state. The client and the daemon must resolve the same
 * socket from the same inputs, so the precedence lives here once: explicit flag, then environment,
 * then the default. Pure functions of their inputs (the caller passes the environment).
 */

/** The original design's socket path, kept as the default so old clients still find the daemon. */
export const DEFAULT_SOCKET_PATH = '/tmp/claude_daemon.sock';

/** Environment variables the daemon and client read; named once so docs and code agree. */
export const ENV = {
  socket: 'CLAUDE_DAEMON_SOCKET',
  home: 'CLAUDE_DAEMON_HOME',
  modulesDir: 'CLAUDE_MODULES_DIR',
  claudeBin: 'CLAUDE_BIN',
} as const;

type Env = Readonly<Record<string, string | undefined>>;

/** `--socket`, then `CLAUDE_DAEMON_SOCKET`, then `/tmp/claude_daemon.sock`. */
export function resolveSocketPath(explicit: string | undefined, env: Env): string {
  return nonEmpty(explicit) ?? nonEmpty(env[ENV.socket]) ?? DEFAULT_SOCKET_PATH;
}

/**
 * `--home`, then `CLAUDE_DAEMON_HOME`, then `$XDG_STATE_HOME/claude-daemon`, then
 * `~/.local/state/claude-daemon`: state is data the daemon must keep across restarts, which is what
 * XDG's state directory is for.
 */
export function resolveHome(explicit: string | undefined, env: Env, userHome: string): string {
  const xdg = nonEmpty(env['XDG_STATE_HOME']);
  return nonEmpty(explicit) ?? nonEmpty(env[ENV.home]) ?? (xdg ? `${xdg}/claude-daemon` : `${userHome}/.local/state/claude-daemon`);
}

/** `--modules-dir`, then `CLAUDE_MODULES_DIR`, then `claude_modules/` in the daemon's start directory. */
export function resolveModulesDir(explicit: string | undefined, env: Env, cwd: string): string {
  return nonEmpty(explicit) ?? nonEmpty(env[ENV.modulesDir]) ?? `${cwd}/claude_modules`;
}

function nonEmpty(s: string | undefined): string | undefined {
  return s !== undefined && s !== '' ? s : undefined;
}
