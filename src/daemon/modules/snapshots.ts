/**
 * The one snapshot mechanism of both languages: a version's code is built once (snapshot.ts: the
 * TypeScript bundle, the Python file's text) and every start of that version, the first and each
 * restart after a crash or a timeout, runs a private copy of it written here, never the file on
 * disk, which may meanwhile hold a broken save. The directory is the state directory's
 * `module-snapshots/`, owned by this daemon alone (it holds the state directory's lock).
 */
import fs from 'node:fs';
import path from 'node:path';
import { ioCommandError } from '../io-error.js';
import { ensureStateSubdir } from '../state/home.js';
import { writeNewStateFile } from '../state/files.js';
import { resolveModuleFile } from './names.js';
import type { Runtime } from './runtime.js';
import { buildSnapshot, pythonSnapshot, type Snapshot } from './snapshot.js';

let seq = 0;

/** Builds snapshots and writes the copies runtimes start from. */
export class Snapshots {
  /** The private directory: snapshot copies and the workers' direct socket. */
  readonly dir: string;

  constructor(
    home: string,
    private readonly modulesDir: string,
    private readonly clientEntry: string,
  ) {
    // No other daemon's snapshots can be here (state/lock.ts): what a previous run left goes.
    fs.rmSync(path.join(home, 'module-snapshots'), { recursive: true, force: true });
    this.dir = ensureStateSubdir(home, 'module-snapshots');
  }

  /** The snapshot of module `name` as its file is now; `previous` lends Python its last import list. */
  build(name: string, previous: Snapshot | undefined): Promise<Snapshot> {
    const file = resolveModuleFile(this.modulesDir, name);
    if (file.language === 'python') return Promise.resolve(pythonSnapshot(name, file, previous?.source === file.path ? previous.inputs : [file.path]));
    return buildSnapshot(name, file, this.clientEntry, this.dir);
  }

  /**
   * After a first start: the files the runtime reported loading (Python's local imports) join the
   * snapshot's hash and watch list. The code stays exactly what was started.
   */
  completed(snap: Snapshot, rt: Runtime): Snapshot {
    if (snap.language !== 'python') return snap;
    return pythonSnapshot(snap.name, { path: snap.source, language: 'python' }, rt.files.length > 0 ? rt.files : snap.inputs, snap.code);
  }

  /** A fresh private copy of the snapshot's code for one start (the runtime removes it when it ends). */
  writeCopy(snap: Snapshot): string {
    const ext = snap.language === 'python' ? 'py' : 'mjs';
    const file = path.join(this.dir, `${snap.name}-${snap.hash}-${process.pid}-${++seq}.${ext}`);
    try {
      writeNewStateFile(file, snap.code ?? (snap.language === 'python' ? fs.readFileSync(snap.source, 'utf8') : ''));
    } catch (err) {
      // Disk full, no descriptor: nothing half-written stays, and the reply says which.
      fs.rmSync(file, { force: true });
      throw ioCommandError(err, `module '${snap.name}': cannot write its snapshot ${file}`, 'it was not loaded (a version already loaded keeps serving)') ?? err;
    }
    return file;
  }

  /** At shutdown, once every runtime has ended. */
  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
