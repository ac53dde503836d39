/**
 * Watches the modules directory with chokidar, which survives every way editors save: in place,
 * temp file renamed over, delete and re-create (Node's own recursive fs.watch loses a file after it
 * is renamed over on Linux). `awaitWriteFinish` keeps a slow write from being read half done; the
 * slot's debounce and content hash do the rest. chokidar is imported in the background so it never
 * delays the daemon's start. Files a module imports from a subdirectory or from outside the
 * directory are also watched through their own directory with fs.watch, whose watch is in place when
 * the call returns (chokidar's `add` and its scan of a new subdirectory are asynchronous, so a save
 * right after a load could be missed); a plain directory watch sees every save style.
 */
import fs from 'node:fs';
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
  private readonly dirWatchers = new Map<string, fs.FSWatcher>();
  private closed = false;

  constructor(
    private readonly dir: string,
    private readonly onChange: (file: string) => void,
    private readonly log: Logger,
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
      await new Promise<void>((resolve) => w.on('ready', () => resolve()));
    })().catch((err: unknown) => {
      log.error('the modules directory cannot be watched; modules reload only on load_module', err);
    });
  }

  /**
   * Also watches the files a module imports from subdirectories or from outside the modules
   * directory, with a watch that is in place when this returns (chokidar may still be scanning a
   * subdirectory created a moment ago).
   */
  watchFiles(files: readonly string[]): void {
    for (const f of files) {
      if (path.dirname(f) === this.dir || this.extra.has(f) || this.closed) continue;
      this.extra.add(f);
      const dir = path.dirname(f);
      if (this.dirWatchers.has(dir)) continue;
      try {
        const w = fs.watch(dir, (_event, name) => {
          const file = name ? path.join(dir, String(name)) : undefined;
          if (file && this.extra.has(file)) this.onChange(file);
        });
        w.on('error', () => this.dirWatchers.delete(dir));
        this.dirWatchers.set(dir, w);
      } catch (err) {
        this.log.warn(`cannot watch ${dir}: ${(err as Error).message}`);
      }
    }
  }

  /** Stops watching. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.dirWatchers.values()) w.close();
    this.dirWatchers.clear();
    await this.ready;
    await this.watcher?.close();
  }
}
