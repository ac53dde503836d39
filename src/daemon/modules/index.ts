/**
 * The module host: the daemon's entry to the agent's hot-reloaded modules. One shape for both
 * languages, slot → version → runtime: a slot per module name (slot.ts: the reload semantics) holds
 * its numbered versions (versions.ts), each built once into a snapshot (snapshots.ts) and started
 * in a runtime (runtimes.ts: worker threads of the module host process, or python3 processes; no
 * module code runs in the daemon's process). The watcher turns saves into reloads of exactly the
 * modules that depend on the saved file.
 */
import fs from 'node:fs';
import type { ParamsOut } from '../../protocol/commands.js';
import type { ListModulesResult, ModuleInfo, UnloadModuleResult } from '../../protocol/schemas/modules.js';
import { CommandError } from '../command-error.js';
import type { DaemonConfig } from '../config.js';
import type { Logger } from '../log.js';
import { WithWarning } from '../reply-warning.js';
import { checkModuleName, moduleNameOfFile } from './names.js';
import { packageFiles } from './package-root.js';
import { Runtimes } from './runtimes.js';
import { ModuleSlot, type ModuleEvent } from './slot.js';
import { Snapshots } from './snapshots.js';
import { ModuleVersions } from './versions.js';
import { ModuleWatcher } from './watcher.js';

export type { ModuleEvent } from './slot.js';

/** Default deadline of one call when the request gives no `timeout_s`. */
export const DEFAULT_CALL_TIMEOUT_S = 30;
/** How long a load waits for the watcher to be ready, so saves right after it are never missed. */
const WATCHER_READY_WAIT_MS = 3_000;

/** The module host as the rest of the daemon sees it. */
export interface ModuleHost {
  /** Loads or reloads (always a new version). */
  load(name: string): Promise<ModuleInfo>;
  /**
   * Calls a function, loading the module first if needed. Resolves with its value, wrapped in a
   * WithWarning when an older version served it because the newest file failed to load.
   */
  call(params: ParamsOut<'call_function'>): Promise<unknown>;
  list(): ListModulesResult;
  unload(name: string): Promise<UnloadModuleResult>;
  /** The module host process's pid and RSS in bytes; null while none runs (no JS module loaded yet). */
  hostStats(): { pid: number; rss: number } | null;
  /** At daemon shutdown: dispose and terminate every module version, then end the host process. */
  stop(): Promise<void>;
  /** Hears every new serving version and every rejected load (the event journal subscribes). */
  onEvent(listener: (e: ModuleEvent) => void): void;
}

/** Creates the module host for this daemon's modules directory (created when missing). */
export async function createModuleHost(config: DaemonConfig, log: Logger): Promise<ModuleHost> {
  return Promise.resolve(new Modules(config, log));
}

/** The module host's named parts and the slots that tie them together. */
class Modules implements ModuleHost {
  readonly versions: ModuleVersions;
  readonly snapshots: Snapshots;
  readonly runtimes: Runtimes;
  private readonly slots = new Map<string, ModuleSlot>();
  private readonly listeners: Array<(e: ModuleEvent) => void> = [];
  private readonly dir: string;
  /** Started with the first load: until then nothing can need a reload, and the daemon stays smaller. */
  private watcherPart: ModuleWatcher | undefined;

  constructor(
    config: DaemonConfig,
    private readonly log: Logger,
  ) {
    this.dir = config.modulesDir;
    fs.mkdirSync(this.dir, { recursive: true });
    const pkg = packageFiles();
    this.versions = new ModuleVersions(config.home, log);
    this.snapshots = new Snapshots(config.home, this.dir, pkg.clientEntry);
    this.runtimes = new Runtimes(config, pkg, this.snapshots, log);
  }

  /** The watcher (chokidar and its scan), created on first use. */
  get watcher(): ModuleWatcher {
    return (this.watcherPart ??= new ModuleWatcher(this.dir, (file) => this.changed(file), this.log));
  }

  load(name: string): Promise<ModuleInfo> {
    return this.loadSlot(name, true);
  }

  async call(p: ParamsOut<'call_function'>): Promise<unknown> {
    checkModuleName(p.module_name);
    let slot = this.slots.get(p.module_name);
    if (!slot || slot.version === 0) {
      await this.loadSlot(p.module_name, false);
      slot = this.slots.get(p.module_name);
      if (!slot) throw new CommandError('MODULE_NOT_LOADED', `module '${p.module_name}' was unloaded while it was loading`);
    }
    const timeoutMs = Math.round((p.timeout_s ?? DEFAULT_CALL_TIMEOUT_S) * 1000);
    // Read before the call: while a newer file's load error stands, the serving version is older.
    const stale = slot.lastError;
    const servedBy = slot.version;
    const value = await slot.call(p.function_name, p.args ?? [], p.kwargs, timeoutMs, p.parent ?? undefined);
    if (stale === undefined) return value;
    return new WithWarning(value, `${p.module_name} v${servedBy} served this call; the newest save failed to load: ${stale.split('\n')[0]}`);
  }

  hostStats(): { pid: number; rss: number } | null {
    return this.runtimes.hostStats();
  }

  onEvent(listener: (e: ModuleEvent) => void): void {
    this.listeners.push(listener);
  }

  list(): ListModulesResult {
    return {
      module_host: this.runtimes.hostStats(),
      modules: this.loaded()
        .map((s) => s.entry())
        .sort((a, b) => a.module.localeCompare(b.module)),
    };
  }

  async unload(name: string): Promise<UnloadModuleResult> {
    checkModuleName(name);
    const slot = this.slots.get(name);
    if (!slot || slot.version === 0) {
      throw new CommandError('MODULE_NOT_LOADED', `module '${name}' is not loaded; loaded modules: ${this.loaded().map((s) => s.name).join(', ') || '(none)'}`);
    }
    this.slots.delete(name);
    slot.unload();
    return Promise.resolve({ module: name, unloaded: true, version: slot.version });
  }

  async stop(): Promise<void> {
    await this.watcherPart?.close();
    await Promise.all([...this.slots.values()].map((s) => s.stop()));
    this.slots.clear();
    await this.runtimes.stop();
    this.snapshots.remove();
  }

  private loaded(): ModuleSlot[] {
    return [...this.slots.values()].filter((s) => s.version > 0);
  }

  /** A saved file: reload its own module and every module built from it. */
  private changed(file: string): void {
    const owner = moduleNameOfFile(this.dir, file);
    for (const slot of this.slots.values()) {
      if (slot.name === owner || slot.snap?.inputs.includes(file)) slot.scheduleReload();
    }
  }

  private slotFor(name: string): ModuleSlot {
    let slot = this.slots.get(name);
    if (!slot || slot.unloaded) {
      const slotLog = this.log.child(name);
      slot = new ModuleSlot(name, {
        log: slotLog,
        build: (n, previous) => this.snapshots.build(n, previous),
        start: async (snap) => {
          const rt = await this.runtimes.start(snap, slotLog);
          return { rt, snap: this.snapshots.completed(snap, rt) };
        },
        nextVersion: (n) => this.versions.next(n),
        notify: (e) => {
          for (const l of this.listeners) l(e);
        },
      });
      this.slots.set(name, slot);
    }
    return slot;
  }

  private async loadSlot(name: string, force: boolean): Promise<ModuleInfo> {
    checkModuleName(name);
    const slot = this.slotFor(name);
    try {
      const info = await slot.load(force);
      const w = this.watcher;
      w.watchFiles(slot.snap?.inputs ?? []);
      await Promise.race([w.ready, new Promise((r) => setTimeout(r, WATCHER_READY_WAIT_MS).unref())]);
      return info;
    } catch (err) {
      // A module that never loaded is not listed; one that did keeps serving (and shows last_error).
      if (slot.version === 0 && this.slots.get(name) === slot) this.slots.delete(name);
      throw err;
    }
  }
}
