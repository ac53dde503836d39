/**
 * Lineage on the client side (issue 13): the daemon gives every child its own id in
 * `CLAUDE_DAEMON_PROCESS_ID`, so a spawn made from inside a tracked process (a claude run using the
 * CLI, a script it started) names that process as its `parent` without the caller doing anything.
 */

/** The variable the daemon sets in every child's environment. */
export const PROCESS_ID_ENV = 'CLAUDE_DAEMON_PROCESS_ID';

/** The same rule as the protocol's ProcessId (no zod here: the client never loads it). */
const ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The id of the tracked process this code runs in, if any. A value that is no process id (set by
 * hand to something else) is ignored rather than sent and refused.
 */
export function currentProcessId(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const v = env[PROCESS_ID_ENV];
  return v !== undefined && ID.test(v) && v !== '.' && v !== '..' ? v : undefined;
}

/** `params` with `parent` set from the environment, unless the caller gave one (null included). */
export function withParent<P extends { parent?: string | null | undefined }>(params: P): P {
  if (params.parent !== undefined) return params;
  const parent = currentProcessId();
  return parent === undefined ? params : { ...params, parent };
}
