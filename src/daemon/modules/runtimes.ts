/**
 * Where module versions run, for both languages behind one call: TypeScript/JavaScript in worker
 * threads of the module host process (host-process.ts; no module code runs in the daemon's own
 * process), Python in a python3 process per version. Each start runs a private copy of the
 * snapshot (snapshots.ts), so a restart never reads the module's file.
 */
import path from 'node:path';
import type { DaemonConfig } from '../config.js';
import type { Logger } from '../log.js';
import { ModuleHostProcess } from './host-process.js';
import { JsRuntime } from './js-runtime.js';
import type { PackageFiles } from './package-root.js';
import { PyRuntime, type PythonSettings } from './py-runtime.js';
import type { Runtime } from './runtime.js';
import type { Snapshot } from './snapshot.js';
import type { Snapshots } from './snapshots.js';

/** Starts snapshots in their language's runtime; owns the JavaScript module host process. */
export class Runtimes {
  private readonly jsHost: ModuleHostProcess;
  private readonly python: PythonSettings;
  private readonly memoryMb: number;

  constructor(
    config: DaemonConfig,
    pkg: PackageFiles,
    private readonly snapshots: Snapshots,
    log: Logger,
  ) {
    // Module code reaches the daemon with the package's client, which finds it through this.
    const env: NodeJS.ProcessEnv = { ...process.env, CLAUDE_DAEMON_SOCKET: config.socketPath };
    const directSocket = path.join(snapshots.dir, 'workers.sock');
    this.jsHost = new ModuleHostProcess({ hostEntry: pkg.hostEntry, workerEntry: pkg.workerEntry, env, memoryMb: config.moduleMemoryMb, directSocket }, log);
    this.python = { host: pkg.pythonHost, pythonDir: pkg.pythonDir, env, memoryMb: config.moduleMemoryMb };
    this.memoryMb = config.moduleMemoryMb;
  }

  /** Starts one version; MODULE_LOAD_FAILED (with the location) when its code does not load. */
  start(snap: Snapshot, log: Logger): Promise<Runtime> {
    const copy = this.snapshots.writeCopy(snap);
    if (snap.language === 'python') return PyRuntime.start(snap, copy, this.python, log);
    return JsRuntime.start(snap, copy, this.jsHost, this.memoryMb, log);
  }

  /** The module host process's pid and RSS in bytes, or null while none runs. */
  hostStats(): { pid: number; rss: number } | null {
    return this.jsHost.stats() ?? null;
  }

  /** At shutdown, after every version was retired: ends the module host process. */
  stop(): Promise<void> {
    return this.jsHost.stop();
  }
}
