/**
 * Booting a worker thread costs ~30 ms, most of a reload's latency; the module itself imports in a
 * few. So one worker is kept booted and idle, and a reload takes it instead of starting one cold.
 */
import type { Worker } from 'node:worker_threads';

/** Settings every module worker shares. */
export interface WorkerSettings {
  entry: string;
  env: NodeJS.ProcessEnv;
  /** V8 old-generation heap cap per module version, in MB. */
  memoryMb: number;
}

/** Holds at most one spare booted worker. */
export class WorkerPool {
  private spare: Promise<Worker> | undefined;
  private stopped = false;

  constructor(readonly settings: WorkerSettings) {}

  /** A booted worker: the spare when there is one, else a fresh one. */
  take(): Promise<Worker> {
    const w = this.spare ?? this.boot();
    this.spare = undefined;
    return w;
  }

  /** Starts booting a spare in the background if there is none. */
  refill(): void {
    if (this.spare || this.stopped) return;
    const p = this.boot();
    this.spare = p;
    p.then(
      (w) => {
        // A spare that dies idle (it should not) is simply replaced on the next take.
        w.once('exit', () => {
          if (this.spare === p) this.spare = undefined;
        });
      },
      () => {
        if (this.spare === p) this.spare = undefined;
      },
    );
  }

  /** Terminates the spare; no more are booted. */
  async stop(): Promise<void> {
    this.stopped = true;
    const s = this.spare;
    this.spare = undefined;
    if (s) await s.then((w) => w.terminate()).catch(() => undefined);
  }

  private boot(): Promise<Worker> {
    const { entry, env, memoryMb } = this.settings;
    // Loaded on first use: an idle daemon with no module loaded never pays for worker_threads.
    const { Worker } = process.getBuiltinModule('node:worker_threads');
    const w = new Worker(entry, { env, stdout: true, stderr: true, resourceLimits: { maxOldGenerationSizeMb: memoryMb } });
    w.unref();
    return new Promise((resolve, reject) => {
      const onMessage = (m: { t?: string }): void => {
        if (m.t !== 'booted') return;
        cleanup();
        resolve(w);
      };
      const onError = (err: Error): void => {
        cleanup();
        reject(err);
      };
      const onExit = (code: number): void => {
        cleanup();
        reject(new Error(`module worker exited (${code}) while booting`));
      };
      const cleanup = (): void => {
        w.off('message', onMessage);
        w.off('error', onError);
        w.off('exit', onExit);
      };
      w.on('message', onMessage);
      w.on('error', onError);
      w.on('exit', onExit);
    });
  }
}
