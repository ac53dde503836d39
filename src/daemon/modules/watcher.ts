/**
 * Watches the modules directory (and any local file a module imports from elsewhere) with chokidar,
 * which survives every way editors save: in place, temp file renamed over, delete and re-create.
 * Node's own recursive fs.watch loses a file after it is renamed over on Linux. `awaitWriteFinish`
 * keeps a slow write from being read half done; the slot's debounce and content hash do the rest.
 * chokidar is imported in the background so it never delays the daemon's start.
 */
import path from 'node:path';
import type { Logger } from '../log.js';

/** Directory names never watched: dependencies, caches, VCS and editor folders. */
const IGNORED_DIRS = new Set(['node_modules', '__pycache__', '.git']);

interface ChokidarWatcher {
  add(paths: string | string[]): unknown;
  on(event: string, cb: (...args: unknown[]) => void): unknown;
  close(): Promise<void>;
}

/** Reports changed files; `ready` resolves once changes are being seen. */
export class ModuleWatcher {
  readonly ready: Promise<void>;
  private watcher: ChokidarWatcher | undefined;
  private readonly extra = new Set<string>();
  private closed = false;

  constructor(
    private readonly dir: string,
    onChange: (file: string) => void,
    log: Logger,
  ) {
    this.ready = (async () => {
      const { watch } = await import('chokidar');
      if (this.closed) return;
      const w = watch(dir, {
        ignoreInitial: true,
        ignored: (p: string) => {
          const base = path.basename(p);
          return p !== dir && (IGNORED_DIRS.has(base) || base.startsWith('.'));
        },
        awaitWriteFinish: { stabilityThreshold: 40, pollInterval: 10 },
      }) as unknown as ChokidarWatcher;
      this.watcher = w;
      for (const ev of ['add', 'change', 'unlink']) w.on(ev, (p) => onChange(path.resolve(String(p))));
      w.on('error', (err) => log.warn(`watcher: ${err instanceof Error ? err.message : String(err)}`));
      if (this.extra.size > 0) w.add([...this.extra]);
      await new Promise<void>((resolve) => w.on('ready', () => resolve()));
    })().catch((err: unknown) => {
      log.error('the modules directory cannot be watched; modules reload only on load_module', err);
    });
  }

  /** Also watches files outside the modules directory that a module imports. */
  watchFiles(files: readonly string[]): void {
    const outside = files.filter((f) => !f.startsWith(this.dir + path.sep) && !this.extra.has(f));
    if (outside.length === 0) return;
    for (const f of outside) this.extra.add(f);
    this.watcher?.add(outside);
  }

  /** Stops watching. */
  async close(): Promise<void> {
    this.closed = true;
    await this.ready;
    await this.watcher?.close();
  }
}
