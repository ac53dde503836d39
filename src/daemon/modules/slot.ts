/**
 * One module name and its resident versions: the semantics of a reload live here. Modelled on
 * Erlang's code server: a new version is started beside the serving one and swapped in only once it
 * has loaded (a broken file never replaces a working one); calls already running finish on the
 * version they started on, which is retired (its `dispose()` called, then ended) once they have;
 * the version number only grows, so a caller never sees an older version after a newer one.
 */
import type { ModuleInfo, ModuleListEntry } from '../../protocol/schemas/modules.js';
import { CommandError } from '../command-error.js';
import type { Logger } from '../log.js';
import type { EndInfo, Runtime } from './runtime.js';
import type { Snapshot } from './snapshot.js';

/** Crashes within this window beyond the limit stop eager restarts (the next call restarts instead). */
const CRASH_WINDOW_MS = 10_000;
const CRASH_LIMIT = 3;
/** Saves closer together than this are one reload. */
const RELOAD_DEBOUNCE_MS = 20;
/**
 * Calls one module may have in flight (waiting for a restart, or running on any of its versions).
 * What a call chain can hold: a function that calls itself through the client without end grew the
 * daemon by ~8 KiB (its connection, its pending call) and the host by ~5 KiB per level, to hundreds
 * of MiB and up to the descriptor budget; at this cap the innermost call fails MODULE_BUSY and the
 * chain unwinds. Far above what real work needs (a call waiting on a claude run takes one).
 */
export const MAX_CALLS_IN_FLIGHT = 1000;
/** MODULE_BUSY refusals are logged at most this often. */
const BUSY_LOG_EVERY_MS = 10_000;

/** What a slot needs from the host: how to build a snapshot and how to start one. */
export interface SlotDeps {
  build(name: string, previous: Snapshot | undefined): Promise<Snapshot>;
  start(snap: Snapshot): Promise<{ rt: Runtime; snap: Snapshot }>;
  /** The number of the next version of this name: never one given before (versions.ts). */
  nextVersion(name: string): number;
  log: Logger;
  /** Told of every new serving version and every rejected load (the event journal's module events). */
  notify?: (e: ModuleEvent) => void;
}

/** A load's outcome as the event journal records it. */
export type ModuleEvent =
  | { type: 'module_loaded'; module: string; version: number; language: string; functions: number }
  | { type: 'module_failed'; module: string; error: string; serving_version: number | null };

/** A module name's serving version, its retiring versions and its counters. */
export class ModuleSlot {
  version = 0;
  snap: Snapshot | undefined;
  loadedAt = '';
  callsServed = 0;
  restarts = 0;
  lastError: string | undefined;
  unloaded = false;
  private serving: Runtime | undefined;
  /** The serving version's functions, kept for listing while it restarts after a crash. */
  private lastFunctions: ModuleInfo['functions'] = [];
  private respawning: Promise<Runtime> | undefined;
  private readonly retiring = new Set<Runtime>();
  private chain: Promise<unknown> = Promise.resolve();
  private crashes: number[] = [];
  private reloadTimer: NodeJS.Timeout | undefined;
  /** Calls in `call()` right now, waiting or running (for the cap). */
  private calls = 0;
  private busyLoggedAt = 0;

  constructor(
    readonly name: string,
    private readonly deps: SlotDeps,
  ) {}

  /** Loads a new version; `force` makes one even when the content did not change. Serialized. */
  load(force: boolean): Promise<ModuleInfo> {
    const p = this.chain.then(() => this.doLoad(force));
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** A watched file changed: reload soon (coalescing bursts), and only if the content differs. */
  scheduleReload(): void {
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = undefined;
      if (this.unloaded || this.version === 0) return;
      this.load(false).then(
        (info) => this.deps.log.debug(`serving v${info.version}`),
        () => undefined, // Recorded in lastError and logged by doLoad.
      );
    }, RELOAD_DEBOUNCE_MS);
    this.reloadTimer.unref();
  }

  /** Runs a function on the serving version; MODULE_BUSY when the module has too many calls in flight. */
  async call(fn: string, args: unknown[], kwargs: Record<string, unknown> | undefined, timeoutMs: number, parent?: string): Promise<unknown> {
    if (this.calls >= MAX_CALLS_IN_FLIGHT) {
      if (Date.now() - this.busyLoggedAt > BUSY_LOG_EVERY_MS) {
        this.busyLoggedAt = Date.now();
        this.deps.log.warn(`refusing calls: ${this.calls} calls in flight, the most one module may have (MODULE_BUSY; a function calling itself through the client?)`);
      }
      throw new CommandError('MODULE_BUSY', `module '${this.name}' already has ${this.calls} calls in flight, the most one module may have (a function that calls itself through the client without end?); retry once some finish`);
    }
    this.calls++;
    try {
      return await this.callOnServing(fn, args, kwargs, timeoutMs, parent);
    } finally {
      this.calls--;
    }
  }

  /** Runs a function on the serving version (starting it again first if it crashed). */
  private async callOnServing(fn: string, args: unknown[], kwargs: Record<string, unknown> | undefined, timeoutMs: number, parent: string | undefined): Promise<unknown> {
    // Take the serving version and count the call on it in one synchronous step, so a swap can
    // never retire a version between choosing it and starting the call on it.
    let rt = this.serving;
    for (let tries = 0; !(rt && rt === this.serving && rt.usable); tries++) {
      if (tries > 5) throw new CommandError('MODULE_CRASHED', `module '${this.name}' keeps crashing while it starts; see last_error in list_modules`);
      await this.runtimeForCall();
      rt = this.serving;
    }
    if (!rt.functions.some((f) => f.name === fn)) {
      const names = rt.functions.map((f) => f.name).join(', ') || '(none)';
      throw new CommandError('FUNCTION_NOT_FOUND', `module '${this.name}' (v${this.version}) has no function '${fn}'; it exports: ${names}`);
    }
    rt.inFlight++;
    try {
      const value = await rt.call(fn, args, kwargs, timeoutMs, parent);
      this.callsServed++;
      return value;
    } finally {
      rt.inFlight--;
      if (rt.inFlight === 0 && this.retiring.has(rt)) this.finishRetire(rt);
    }
  }

  /** Stops serving: running calls finish, then every version is disposed. */
  unload(): void {
    this.unloaded = true;
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    if (this.serving) this.retire(this.serving);
    this.serving = undefined;
    void this.respawning?.then((rt) => this.retire(rt), () => undefined);
  }

  /** Daemon shutdown: dispose every resident version now, in parallel. */
  async stop(): Promise<void> {
    this.unloaded = true;
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    const all = [...this.retiring, ...(this.serving ? [this.serving] : [])];
    this.retiring.clear();
    this.serving = undefined;
    await Promise.all(all.map((rt) => rt.retire('the daemon is shutting down').catch(() => undefined)));
  }

  /** The serving version as `load_module` reports it. */
  info(): ModuleInfo {
    const snap = this.snap!;
    return { module: this.name, version: this.version, language: snap.language, functions: this.serving?.functions ?? this.lastFunctions, path: snap.source, loaded_at: this.loadedAt };
  }

  /** The slot as `list_modules` reports it. */
  entry(): ModuleListEntry {
    const inFlight = [...this.retiring, ...(this.serving ? [this.serving] : [])].reduce((n, rt) => n + rt.inFlight, 0);
    const e: ModuleListEntry = { ...this.info(), calls_served: this.callsServed, calls_in_flight: inFlight, restarts: this.restarts };
    if (this.lastError !== undefined) e.last_error = this.lastError;
    return e;
  }

  private async doLoad(force: boolean): Promise<ModuleInfo> {
    if (this.unloaded) throw new CommandError('MODULE_NOT_LOADED', `module '${this.name}' was unloaded`);
    let started: { rt: Runtime; snap: Snapshot };
    try {
      const t0 = performance.now();
      const snap = await this.deps.build(this.name, this.snap);
      if (!force && this.snap && this.serving && snap.hash === this.snap.hash) {
        this.lastError = undefined;
        return this.info();
      }
      const t1 = performance.now();
      started = await this.deps.start(snap);
      this.deps.log.debug(`built in ${(t1 - t0).toFixed(1)} ms, started in ${(performance.now() - t1).toFixed(1)} ms`);
    } catch (err) {
      this.deps.notify?.({ type: 'module_failed', module: this.name, error: err instanceof Error ? err.message : String(err), serving_version: this.version > 0 ? this.version : null });
      if (this.version > 0) {
        this.lastError = err instanceof Error ? err.message : String(err);
        this.deps.log.warn(`new version rejected, v${this.version} keeps serving: ${this.lastError}`);
      }
      throw err;
    }
    if (this.unloaded) {
      void started.rt.retire('unloaded while loading').catch(() => undefined);
      throw new CommandError('MODULE_NOT_LOADED', `module '${this.name}' was unloaded while it was loading`);
    }
    const old = this.serving;
    this.attach(started.rt);
    this.snap = started.snap;
    this.version = this.deps.nextVersion(this.name);
    this.loadedAt = new Date().toISOString();
    this.lastError = undefined;
    this.respawning = undefined;
    this.crashes = [];
    if (old) this.retire(old);
    const names = started.rt.functions.map((f) => f.name);
    // A module may export hundreds of functions; the log line names a few (list_modules has them all).
    const shown = names.length > 12 ? `${names.slice(0, 12).join(', ')}, … ${names.length - 12} more` : names.join(', ');
    this.deps.log.info(`v${this.version} serving (${shown})`);
    this.deps.notify?.({ type: 'module_loaded', module: this.name, version: this.version, language: started.snap.language, functions: names.length });
    return this.info();
  }

  private attach(rt: Runtime): void {
    this.serving = rt;
    this.lastFunctions = rt.functions;
    rt.onEnd = (info) => this.onEnd(rt, info);
  }

  private onEnd(rt: Runtime, info: EndInfo): void {
    this.retiring.delete(rt);
    if (info.planned || rt !== this.serving || this.unloaded) return;
    this.restarts++;
    const now = Date.now();
    this.crashes = this.crashes.filter((t) => now - t < CRASH_WINDOW_MS).concat(now);
    this.deps.log.warn(`v${this.version} ended: ${info.message}`);
    if (this.crashes.length <= CRASH_LIMIT) void this.restart(rt).catch(() => undefined);
  }

  private runtimeForCall(): Promise<Runtime> {
    if (this.unloaded) return Promise.reject(new CommandError('MODULE_NOT_LOADED', `module '${this.name}' is not loaded; load it with load_module`));
    const rt = this.serving;
    if (rt && rt.usable) return Promise.resolve(rt);
    return this.restart(rt);
  }

  /** Starts the last good snapshot again, unless a newer version was swapped in meanwhile. */
  private restart(crashed: Runtime | undefined): Promise<Runtime> {
    if (this.respawning) return this.respawning;
    const snap = this.snap;
    if (!snap) return Promise.reject(new CommandError('MODULE_NOT_LOADED', `module '${this.name}' is not loaded`));
    const p = this.deps.start(snap).then(
      ({ rt }) => {
        if (this.respawning === p) this.respawning = undefined;
        if (this.serving !== crashed || this.unloaded) {
          void rt.retire('superseded').catch(() => undefined);
          if (this.serving && this.serving.usable) return this.serving;
          throw new CommandError('MODULE_NOT_LOADED', `module '${this.name}' is not loaded`);
        }
        this.attach(rt);
        this.deps.log.info(`v${this.version} restarted`);
        return rt;
      },
      (err: unknown) => {
        if (this.respawning === p) this.respawning = undefined;
        const msg = err instanceof Error ? err.message : String(err);
        this.lastError = `restart of v${this.version} failed: ${msg}`;
        throw new CommandError('MODULE_CRASHED', `module '${this.name}' crashed and could not be restarted: ${msg}`);
      },
    );
    this.respawning = p;
    return p;
  }

  private retire(rt: Runtime): void {
    this.retiring.add(rt);
    if (rt.inFlight === 0) this.finishRetire(rt);
  }

  private finishRetire(rt: Runtime): void {
    this.retiring.delete(rt);
    rt.retire('replaced by a newer version').catch((err: unknown) => this.deps.log.warn(`dispose() of an old version failed: ${err instanceof Error ? err.message : String(err)}`));
  }
}
