/**
 * One running module version, whatever it runs in. The RPC bookkeeping lives here once: ids,
 * per-call deadlines (kept on the daemon side, because a runaway call cannot be trusted to time
 * itself out), and failing every pending call when the runtime ends, since terminating a worker or
 * killing a process rejects nothing by itself.
 */
import type { ErrorCode } from '../../protocol/errors.js';
import type { ModuleFunction, ModuleLanguage } from '../../protocol/schemas/modules.js';
import { CommandError } from '../command-error.js';
import type { FromRuntime, ToRuntime } from './messages.js';
import { clipMessage, MAX_RESULT_DEPTH, nestingOver } from './reply-limits.js';

/** How long a module may take to import before the load is declared failed. */
export const LOAD_TIMEOUT_MS = 10_000;
/** How long `dispose()` may take when a version is retired before it is terminated anyway. */
export const DISPOSE_TIMEOUT_MS = 2_000;

interface PendingCall {
  fn: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** Why a runtime ended, for the calls that were pending on it and for the log. */
export interface EndInfo {
  code: ErrorCode;
  message: string;
  /** True when the daemon ended it on purpose (retire, unload, stop), not a crash. */
  planned: boolean;
}

/** A module version running in a worker thread or a python3 process. */
export abstract class Runtime {
  functions: ModuleFunction[] = [];
  /** Local files the runtime reported having loaded (Python's imports). */
  files: string[] = [];
  /** Calls started on this runtime and not yet settled. */
  inFlight = 0;
  ended = false;
  readonly startedAt = Date.now();
  /** Called once when the runtime ends for any reason. */
  onEnd: ((info: EndInfo) => void) | undefined;
  private readonly pending = new Map<number, PendingCall>();
  private nextId = 1;
  private endReason: EndInfo | undefined;
  private disposeWaiter: ((error?: string) => void) | undefined;
  private loadWaiter: { resolve: () => void; reject: (e: Error) => void } | undefined;

  constructor(
    readonly name: string,
    readonly language: ModuleLanguage,
  ) {}

  protected abstract send(msg: ToRuntime): void;
  /** Stops the worker or process right now; its end is then reported through `ended()`. */
  protected abstract terminate(): void;

  /** Resolves once the module imported and listed its functions; MODULE_LOAD_FAILED otherwise. */
  protected waitLoaded(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const message = `module '${this.name}' did not finish loading within ${LOAD_TIMEOUT_MS / 1000} s (a loop or a wait at top level?)`;
        this.loadWaiter = undefined;
        reject(new CommandError('MODULE_LOAD_FAILED', message));
        this.kill('MODULE_LOAD_FAILED', message, true);
      }, LOAD_TIMEOUT_MS);
      this.loadWaiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  /**
   * Runs one function with a deadline; settles with its JSON value or a CommandError. `parent`: the
   * tracked process the call is made for (lineage); spawns the function makes through the client record it.
   */
  call(fn: string, args: unknown[], kwargs: Record<string, unknown> | undefined, timeoutMs: number, parent?: string): Promise<unknown> {
    if (!this.usable) return Promise.reject(new CommandError('MODULE_CRASHED', this.endReason?.message ?? `module '${this.name}' is not running`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.settle(id, undefined, new CommandError('CALL_TIMEOUT', `${this.name}.${fn} did not finish within ${timeoutMs / 1000} s; the module was restarted from its last good version. If it needs longer (code that waits on claude runs does), give it more time with timeout_s`));
        this.kill('MODULE_CRASHED', `module '${this.name}' was restarted because a call to ${fn} timed out while this call was running`, false);
      }, timeoutMs);
      this.pending.set(id, { fn, resolve, reject, timer });
      try {
        const msg: Extract<ToRuntime, { t: 'call' }> = { t: 'call', id, fn, args };
        if (kwargs !== undefined) msg.kwargs = kwargs;
        if (parent !== undefined) msg.parent = parent;
        this.send(msg);
      } catch (err) {
        // Arguments the runtime cannot be handed (nested too deep to serialize or clone): this call
        // fails alone, and its deadline goes with it (left armed, it would restart the module).
        const why = err instanceof Error ? err.message : String(err);
        this.settle(id, undefined, new CommandError('INVALID_PARAMS', `${this.name}.${fn}: the arguments cannot be handed to the module (${why}); pass flatter data (nesting depth in the hundreds at most)`));
      }
    });
  }

  /** Calls the module's `dispose()` (bounded), then ends the runtime. */
  async retire(why: string): Promise<void> {
    if (!this.usable) return;
    const error = await new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(`dispose() did not finish within ${DISPOSE_TIMEOUT_MS / 1000} s`), DISPOSE_TIMEOUT_MS);
      this.disposeWaiter = (e) => {
        clearTimeout(timer);
        resolve(e);
      };
      try {
        this.send({ t: 'dispose' });
      } catch {
        resolve(undefined);
      }
    });
    this.kill('MODULE_NOT_LOADED', why, true);
    if (error !== undefined) throw new Error(error);
  }

  /** False from the moment the runtime is being ended: no new call may start on it. */
  get usable(): boolean {
    return !this.ended && this.endReason === undefined;
  }

  /** Ends the runtime now; pending calls fail with `code`. The owner hears of it at once. */
  kill(code: ErrorCode, message: string, planned: boolean): void {
    if (this.ended) return;
    this.endReason ??= { code, message, planned };
    // Termination completes asynchronously; the owner must stop routing calls here right now.
    this.notifyEnd(this.endReason);
    this.terminate();
  }

  private notified = false;
  private notifyEnd(info: EndInfo): void {
    if (this.notified) return;
    this.notified = true;
    this.onEnd?.(info);
  }

  /** For subclasses: a message from the runtime arrived. */
  protected received(msg: FromRuntime): void {
    switch (msg.t) {
      case 'ready':
        if (msg.functions.length === 0) {
          // Most often a save caught half written (or emptied first by the editor): never serve it.
          this.received({ t: 'load_error', message: 'the module exports no functions (export at least one; dispose is a hook, not a callable, and Python names starting with _ are private)' });
          return;
        }
        this.functions = msg.functions;
        this.files = msg.files ?? [];
        this.loadWaiter?.resolve();
        this.loadWaiter = undefined;
        return;
      case 'load_error':
        this.loadWaiter?.reject(new CommandError('MODULE_LOAD_FAILED', `module '${this.name}' failed to load: ${msg.message}`));
        this.loadWaiter = undefined;
        this.kill('MODULE_LOAD_FAILED', msg.message, true);
        return;
      case 'result': {
        let value: unknown;
        if (nestingOver(msg.json, MAX_RESULT_DEPTH)) {
          // The daemon could not encode its reply (its own stack): refused here, the module untouched.
          this.settle(msg.id, undefined, new CommandError('RESULT_NOT_SERIALIZABLE', `the function returned a value nested deeper than ${MAX_RESULT_DEPTH} levels; return something flatter`));
          return;
        }
        try {
          value = JSON.parse(msg.json);
        } catch {
          this.settle(msg.id, undefined, new CommandError('RESULT_NOT_SERIALIZABLE', 'the function returned a value that is not JSON'));
          return;
        }
        this.settle(msg.id, value, undefined);
        return;
      }
      case 'error': {
        const fn = this.pending.get(msg.id)?.fn ?? '?';
        const text = clipMessage(msg.message);
        this.settle(msg.id, undefined, new CommandError(msg.code, msg.code === 'FUNCTION_ERROR' ? `${this.name}.${fn} threw: ${text}` : text));
        // The runtime said it is going down (out of memory, sys.exit): no call may be routed to it
        // in the moment before its exit is seen, so it is ended (and restarted) right now.
        if (msg.code === 'MODULE_CRASHED') this.kill('MODULE_CRASHED', msg.message, false);
        return;
      }
      case 'disposed':
        this.disposeWaiter?.(msg.error);
        this.disposeWaiter = undefined;
        return;
      case 'booted':
        return;
    }
  }

  /** For subclasses: the worker or process is gone; `why` describes an unplanned end. */
  protected reportEnd(why: { code: ErrorCode; message: string }): void {
    if (this.ended) return;
    this.ended = true;
    const info = this.endReason ?? { ...why, planned: false };
    this.endReason = info;
    this.loadWaiter?.reject(new CommandError('MODULE_LOAD_FAILED', `module '${this.name}' failed to load: ${info.message}`));
    this.loadWaiter = undefined;
    this.disposeWaiter?.(undefined);
    for (const id of [...this.pending.keys()]) this.settle(id, undefined, new CommandError(info.code, info.message));
    this.notifyEnd(info);
  }

  private settle(id: number, value: unknown, err: Error | undefined): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (err) p.reject(err);
    else p.resolve(value);
  }
}
