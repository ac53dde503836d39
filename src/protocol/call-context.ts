/**
 * Lineage through module calls: a JS module's worker runs each call inside an AsyncLocalStorage
 * whose store names the tracked process the call was made for (`call_function {parent}`). The store
 * sits on globalThis under this registered symbol, so the worker (daemon code) and the package's
 * client that the module imports (a separate copy of the code) find the same one without importing
 * each other; the client sends its `parent` as the default for spawns and calls made inside it.
 */

/** `Symbol.for` key of the AsyncLocalStorage of module calls (see the file comment). */
export const CALL_CONTEXT_KEY = 'claude-daemon.module-call';

/** What a module call's context holds: the process it was made for, if any. */
export interface CallContext {
  parent: string | undefined;
}

/** The part of AsyncLocalStorage the client needs (protocol imports nothing from node:). */
export interface CallContextStorage {
  getStore(): CallContext | undefined;
}
