/**
 * A Python module version in its own python3 process, running the host script shipped in python/.
 * A process per version (rather than reloading in place, which leaves a module half-replaced when
 * the new code throws) gives Python modules the same guarantees as workers: a broken file never
 * replaces a working one, and a runaway call is stopped by killing the process.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.js';
import { forEachLine } from './log-lines.js';
import type { FromRuntime, ToRuntime } from './messages.js';
import { Runtime } from './runtime.js';
import type { Snapshot } from './snapshot.js';

/** What a Python runtime needs from the host. */
export interface PythonSettings {
  host: string;
  pythonDir: string;
  env: NodeJS.ProcessEnv;
  memoryMb: number;
}

let interpreter: Promise<string> | undefined;

/** How long after python3 exits its last output may still be read before the end is reported. */
const EXIT_GRACE_MS = 200;

/**
 * The real python3 binary. Shims such as pyenv's add ~90 ms to every start, so the path is asked
 * once and the interpreter is then started directly.
 */
function python(env: NodeJS.ProcessEnv): Promise<string> {
  interpreter ??= new Promise((resolve) => {
    const cmd = env['CLAUDE_DAEMON_PYTHON'] ?? 'python3';
    execFile(cmd, ['-c', 'import sys; print(sys.executable)'], { env, timeout: 10_000 }, (err, stdout) => {
      const exe = stdout.trim();
      resolve(err || exe === '' ? cmd : exe);
    });
  });
  return interpreter;
}

/** Runtime over a python3 child speaking JSON lines. */
export class PyRuntime extends Runtime {
  private constructor(
    snap: Snapshot,
    private readonly child: ChildProcess,
    copy: string,
    log: Logger,
  ) {
    super(snap.name, 'python');
    forEachLine(child.stderr, (l) => log.info(l));
    forEachLine(child.stdout, (l) => {
      let msg: FromRuntime;
      try {
        msg = JSON.parse(l) as FromRuntime;
      } catch {
        log.warn(`unexpected output from the python host: ${l.slice(0, 200)}`);
        return;
      }
      this.received(msg);
    });
    child.stdin?.on('error', () => undefined);
    child.on('error', (err) => log.warn(`python3: ${err.message}`));
    const end = (code: number | null, signal: NodeJS.Signals | null): void => {
      fs.rm(copy, { force: true }, () => undefined);
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      this.reportEnd({ code: 'MODULE_CRASHED', message: `the python3 process of module '${this.name}' ${how}; it was restarted from its last good version` });
    };
    // 'close' comes after the last output is read (the reason for a crash is often in it), but a
    // grandchild holding the pipes open would delay it forever: 'exit' plus a short grace bounds it.
    child.on('close', end);
    child.on('exit', (code, signal) => setTimeout(() => end(code, signal), EXIT_GRACE_MS).unref());
  }

  /**
   * Starts python3 on `copy`, the snapshot's source (a private copy of what was read when the version
   * was built, so a restart runs the last good code, never a broken save); MODULE_LOAD_FAILED with
   * file:line if it fails to import. Tracebacks and __file__ still name the module's own file.
   */
  static async start(snap: Snapshot, copy: string, settings: PythonSettings, log: Logger): Promise<PyRuntime> {
    const exe = await python(settings.env);
    const pythonPath = [settings.pythonDir, settings.env['PYTHONPATH']].filter((p) => p).join(path.delimiter);
    const child = spawn(exe, ['-u', settings.host, snap.source, snap.name, copy], {
      cwd: path.dirname(snap.source),
      env: { ...settings.env, PYTHONPATH: pythonPath, PYTHONDONTWRITEBYTECODE: '1', CLAUDE_DAEMON_MODULE_MEMORY_MB: String(settings.memoryMb) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const rt = new PyRuntime(snap, child, copy, log);
    await rt.waitLoaded();
    return rt;
  }

  protected send(msg: ToRuntime): void {
    if (this.child.stdin?.writable) this.child.stdin.write(JSON.stringify(msg) + '\n');
  }

  protected terminate(): void {
    this.child.kill('SIGKILL');
  }
}
