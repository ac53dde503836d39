/**
 * A TypeScript/JavaScript module version in its own worker thread. The snapshot is written to a
 * private file and imported once by a worker that exists only for it, so reloading never leaks
 * (re-importing ES modules with a query string grows the heap by ~110 KB per reload, forever), and
 * terminating the worker takes the version's timers, globals and handles with it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { CommandError } from '../command-error.js';
import { ioCommandError } from '../io-error.js';
import type { Logger } from '../log.js';
import { writeNewStateFile } from '../state/files.js';
import { forEachLine } from './log-lines.js';
import type { FromRuntime, ToRuntime } from './messages.js';
import { Runtime } from './runtime.js';
import type { Snapshot } from './snapshot.js';
import type { WorkerPool } from './worker-pool.js';

let seq = 0;

/** Runtime over a worker thread. */
export class JsRuntime extends Runtime {
  private lastError: (Error & { code?: string }) | undefined;

  private constructor(
    snap: Snapshot,
    private readonly worker: Worker,
    private readonly file: string,
    log: Logger,
    memoryMb: number,
  ) {
    super(snap.name, snap.language);
    forEachLine(worker.stdout, (l) => log.info(l));
    forEachLine(worker.stderr, (l) => log.warn(l));
    worker.on('message', (m: FromRuntime) => this.received(m));
    worker.on('error', (err: Error) => {
      this.lastError = err;
      log.warn(`worker error: ${err.stack ?? err.message}`);
    });
    worker.on('exit', (code) => {
      fs.rm(this.file, { force: true }, () => undefined);
      this.reportEnd({ code: 'MODULE_CRASHED', message: this.describeExit(code, memoryMb) });
    });
  }

  /** Starts the snapshot in a (pre-booted) worker; MODULE_LOAD_FAILED if it throws while importing. */
  static async start(snap: Snapshot, pool: WorkerPool, snapshotDir: string, log: Logger): Promise<JsRuntime> {
    const file = path.join(snapshotDir, `${snap.name}-${snap.hash}-${process.pid}-${++seq}.mjs`);
    try {
      writeNewStateFile(file, snap.code ?? '');
    } catch (err) {
      // Disk full, no descriptor: nothing half-written stays, and the reply says which.
      fs.rmSync(file, { force: true });
      throw ioCommandError(err, `module '${snap.name}': cannot write its snapshot ${file}`, 'it was not loaded (a version already loaded keeps serving)') ?? err;
    }
    let worker: Worker;
    try {
      worker = await pool.take();
    } catch (err) {
      fs.rmSync(file, { force: true });
      throw new CommandError('MODULE_LOAD_FAILED', `module '${snap.name}': could not start a worker thread: ${(err as Error).message}`);
    }
    const rt = new JsRuntime(snap, worker, file, log, pool.settings.memoryMb);
    const loaded = rt.waitLoaded();
    rt.send({ t: 'load', url: pathToFileURL(file).href, name: snap.name });
    await loaded;
    return rt;
  }

  protected send(msg: ToRuntime): void {
    this.worker.postMessage(msg);
  }

  protected terminate(): void {
    void this.worker.terminate();
  }

  private describeExit(code: number, memoryMb: number): string {
    const err = this.lastError;
    if (err?.code === 'ERR_WORKER_OUT_OF_MEMORY') return `module '${this.name}' ran out of memory (heap cap ${memoryMb} MB) and was restarted from its last good version`;
    if (err) return `module '${this.name}' crashed with an uncaught ${err.name}: ${err.message}; it was restarted from its last good version`;
    return `module '${this.name}' exited (process.exit(${code})) and was restarted from its last good version`;
  }
}
