/**
 * The module host: the daemon's entry to the agent's hot-reloaded modules. It owns one slot per
 * module name (see slot.ts for the reload semantics), starts versions in worker threads of the
 * module host process (host-process.ts: no module code runs in the daemon's process) or in python3
 * processes, and turns file-system changes into reloads of exactly the modules that depend on them.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ParamsOut } from '../../protocol/commands.js';
import type { ListModulesResult, ModuleInfo, UnloadModuleResult } from '../../protocol/schemas/modules.js';
import { CommandError } from '../command-error.js';
import { ensureStateSubdir } from '../state/home.js';
import type { DaemonConfig } from '../config.js';
import type { Logger } from '../log.js';
import { ModuleHostProcess } from './host-process.js';
import { JsRuntime } from './js-runtime.js';
import { checkModuleName, moduleNameOfFile, resolveModuleFile } from './names.js';
import { packageFiles } from './package-root.js';
import { PyRuntime } from './py-runtime.js';
import type { Runtime } from './runtime.js';
import { ModuleSlot, type ModuleEvent, type SlotDeps } from './slot.js';
import { buildSnapshot, pythonSnapshot, type Snapshot } from './snapshot.js';
import { ModuleVersions } from './versions.js';
import { ModuleWatcher } from './watcher.js';
import { WithWarning } from '../reply-warning.js';

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
  const dir = config.modulesDir;
  fs.mkdirSync(dir, { recursive: true });
  // Only the daemon holding the state directory's lock gets here (state/lock.ts): no other's snapshots go.
  fs.rmSync(path.join(config.home, 'module-snapshots'), { recursive: true, force: true });
  const snapshotDir = ensureStateSubdir(config.home, 'module-snapshots');
  const pkg = packageFiles();
  const env: NodeJS.ProcessEnv = { ...process.env, CLAUDE_DAEMON_SOCKET: config.socketPath };
  const directSocket = path.join(snapshotDir, 'workers.sock');
  const host = new ModuleHostProcess({ hostEntry: pkg.hostEntry, workerEntry: pkg.workerEntry, env, memoryMb: config.moduleMemoryMb, directSocket }, log);
  const slots = new Map<string, ModuleSlot>();
  const versions = new ModuleVersions(config.home, log);
  const listeners: Array<(e: ModuleEvent) => void> = [];

  // The watcher (chokidar and its scan) starts with the first load: until a module is loaded there
  // is nothing to reload, and a daemon that only supervises processes stays smaller.
  let watcher: ModuleWatcher | undefined;
  const ensureWatcher = (): ModuleWatcher =>
    (watcher ??= new ModuleWatcher(
      dir,
      (file) => {
        const owner = moduleNameOfFile(dir, file);
        for (const slot of slots.values()) {
          if (slot.name === owner || slot.snap?.inputs.includes(file)) slot.scheduleReload();
        }
      },
      log,
    ));

  const start = async (snap: Snapshot, slotLog: Logger): Promise<{ rt: Runtime; snap: Snapshot }> => {
    if (snap.language === 'python') {
      const rt = await PyRuntime.start(snap, { host: pkg.pythonHost, pythonDir: pkg.pythonDir, env, memoryMb: config.moduleMemoryMb, snapshotDir }, slotLog);
      // The interpreter reports which local files it imported: they join the hash and the watch list.
      const full = pythonSnapshot(snap.name, { path: snap.source, language: 'python' }, rt.files.length > 0 ? rt.files : snap.inputs, snap.code);
      return { rt, snap: full };
    }
    const rt = await JsRuntime.start(snap, host, config.moduleMemoryMb, snapshotDir, slotLog);
    return { rt, snap };
  };

  const slotFor = (name: string): ModuleSlot => {
    let slot = slots.get(name);
    if (!slot || slot.unloaded) {
      const slotLog = log.child(name);
      const deps: SlotDeps = {
        log: slotLog,
        build: async (n, previous) => {
          const file = resolveModuleFile(dir, n);
          if (file.language === 'python') return pythonSnapshot(n, file, previous?.source === file.path ? previous.inputs : [file.path]);
          return buildSnapshot(n, file, pkg.clientEntry, snapshotDir);
        },
        start: (snap) => start(snap, slotLog),
        nextVersion: (n) => versions.next(n),
        notify: (e) => {
          for (const l of listeners) l(e);
        },
      };
      slot = new ModuleSlot(name, deps);
      slots.set(name, slot);
    }
    return slot;
  };

  const load = async (name: string, force: boolean): Promise<ModuleInfo> => {
    checkModuleName(name);
    const slot = slotFor(name);
    try {
      const info = await slot.load(force);
      const w = ensureWatcher();
      w.watchFiles(slot.snap?.inputs ?? []);
      await Promise.race([w.ready, new Promise((r) => setTimeout(r, WATCHER_READY_WAIT_MS).unref())]);
      return info;
    } catch (err) {
      // A module that never loaded is not listed; one that did keeps serving (and shows last_error).
      if (slot.version === 0 && slots.get(name) === slot) slots.delete(name);
      throw err;
    }
  };

  return {
    load: (name) => load(name, true),
    async call(p) {
      checkModuleName(p.module_name);
      let slot = slots.get(p.module_name);
      if (!slot || slot.version === 0) {
        await load(p.module_name, false);
        slot = slots.get(p.module_name);
        if (!slot) throw new CommandError('MODULE_NOT_LOADED', `module '${p.module_name}' was unloaded while it was loading`);
      }
      const timeoutMs = Math.round((p.timeout_s ?? DEFAULT_CALL_TIMEOUT_S) * 1000);
      // Read before the call: while a newer file's load error stands, the serving version is older.
      const stale = slot.lastError;
      const servedBy = slot.version;
      const value = await slot.call(p.function_name, p.args ?? [], p.kwargs, timeoutMs);
      if (stale === undefined) return value;
      return new WithWarning(value, `${p.module_name} v${servedBy} served this call; the newest save failed to load: ${stale.split('\n')[0]}`);
    },
    onEvent: (l) => void listeners.push(l),
    hostStats: () => host.stats() ?? null,
    list: () => ({
      module_host: host.stats() ?? null,
      modules: [...slots.values()]
        .filter((s) => s.version > 0)
        .map((s) => s.entry())
        .sort((a, b) => a.module.localeCompare(b.module)),
    }),
    async unload(name) {
      checkModuleName(name);
      const slot = slots.get(name);
      if (!slot || slot.version === 0) throw new CommandError('MODULE_NOT_LOADED', `module '${name}' is not loaded; loaded modules: ${[...slots.values()].filter((s) => s.version > 0).map((s) => s.name).join(', ') || '(none)'}`);
      slots.delete(name);
      slot.unload();
      return { module: name, unloaded: true, version: slot.version };
    },
    async stop() {
      await watcher?.close();
      await Promise.all([...slots.values()].map((s) => s.stop()));
      slots.clear();
      await host.stop();
      fs.rmSync(snapshotDir, { recursive: true, force: true });
    },
  };
}
