/**
 * A TypeScript/JavaScript module version in its own worker thread inside the module host process
 * (host-process.ts), never in the daemon's own process. The snapshot is written to a private file
 * and imported once by a worker that exists only for it, so reloading never leaks (re-importing ES
 * modules with a query string grows the heap by ~110 KB per reload, forever), and terminating the
 * worker takes the version's timers, globals and handles with it.
 */
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { CommandError } from '../command-error.js';
import type { Logger } from '../log.js';
import type { ModuleHostProcess } from './host-process.js';
import type { HostDeath, HostWorker } from './host-worker.js';
import type { WorkerExit } from './host-messages.js';
import type { ToRuntime } from './messages.js';
import { Runtime } from './runtime.js';
import type { Snapshot } from './snapshot.js';

/** Runtime over a worker thread of the module host process. */
export class JsRuntime extends Runtime {
  private constructor(
    snap: Snapshot,
    private readonly worker: HostWorker,
    private readonly file: string,
    log: Logger,
    memoryMb: number,
  ) {
    super(snap.name, snap.language);
    worker.onLog = (level, line) => log[level](line);
    worker.onMessage = (m) => this.received(m);
    worker.onExit = (exit) => {
      fs.rm(this.file, { force: true }, () => undefined);
      this.reportEnd({ code: 'MODULE_CRASHED', message: this.describeExit(exit, memoryMb) });
    };
  }

  /** Starts the snapshot's copy `file` in a (pre-booted) worker; MODULE_LOAD_FAILED if it throws while importing. */
  static async start(snap: Snapshot, file: string, host: ModuleHostProcess, memoryMb: number, log: Logger): Promise<JsRuntime> {
    let worker: HostWorker;
    try {
      worker = await host.openWorker(snap.name, `${snap.name}@${snap.hash}`);
    } catch (err) {
      fs.rmSync(file, { force: true });
      if (err instanceof CommandError) throw err;
      throw new CommandError('MODULE_LOAD_FAILED', `module '${snap.name}': could not start a worker thread: ${(err as Error).message}`);
    }
    const rt = new JsRuntime(snap, worker, file, log, memoryMb);
    const loaded = rt.waitLoaded();
    rt.send({ t: 'load', url: pathToFileURL(file).href, name: snap.name });
    await loaded;
    return rt;
  }

  protected send(msg: ToRuntime): void {
    this.worker.post(msg);
  }

  protected terminate(): void {
    this.worker.terminate();
  }

  private describeExit(exit: WorkerExit | HostDeath, memoryMb: number): string {
    if ('how' in exit) return `the module host process ${exit.how} while module '${this.name}' was resident (module code in it killed, aborted or exited that process, or closed its descriptors); '${this.name}' was restarted from its last good version in a new host`;
    const err = exit.error;
    if (err?.code === 'ERR_WORKER_OUT_OF_MEMORY') return `module '${this.name}' ran out of memory (heap cap ${memoryMb} MB) and was restarted from its last good version`;
    if (err) return `module '${this.name}' crashed with an uncaught ${err.name}: ${err.message}; it was restarted from its last good version`;
    return `module '${this.name}' exited (process.exit(${exit.code})) and was restarted from its last good version`;
  }
}
