/**
 * Lineage on the client side (issue 13): the daemon gives every child its own id in
 * `CLAUDE_DAEMON_PROCESS_ID`, so a spawn made from inside a tracked process (a claude run using the
 * CLI, a script it started) names that process as its `parent` without the caller doing anything.
 * Inside a module call (a JS module's worker runs each call in a context naming the process the
 * call was made for: protocol/call-context.ts) that process is the parent instead.
 */
import { CALL_CONTEXT_KEY, type CallContextStorage } from '../protocol/call-context.js';

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

/**
 * The parent for a request made now: inside a module call, the process the call was made for (or
 * none); elsewhere the tracked process this code runs in.
 */
export function defaultParent(): string | undefined {
  const calls = (globalThis as Record<symbol, unknown>)[Symbol.for(CALL_CONTEXT_KEY)] as CallContextStorage | undefined;
  const call = calls?.getStore();
  return call !== undefined ? call.parent : currentProcessId();
}

/** `params` with `parent` set from defaultParent(), unless the caller gave one (null included). */
export function withParent<P extends { parent?: string | null | undefined }>(params: P): P {
  if (params.parent !== undefined) return params;
  const parent = defaultParent();
  return parent === undefined ? params : { ...params, parent };
}
