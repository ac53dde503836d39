/**
 * Starting one command through the native wrapper (native/wrap.c). Node forks the daemon once, for
 * the wrapper; the wrapper opens the output files, forks and execs the command, reports one line and
 * then holds no pipe to us. The daemon never touches the command's output.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the wrapper reported once the command was running. */
export interface Launched {
  child: ChildProcess;
  pid: number;
  pidStart: number;
  wrapperPid: number;
  wrapperStart: number;
  /** Resolves when the wrapper has exited (and was reaped by Node, so it leaves no zombie). */
  exited: Promise<void>;
}

/** The command could not start; `reason` is the OS's word for why, e.g. `exec: No such file or directory (ENOENT)`. */
export class LaunchError extends Error {
  override name = 'LaunchError';
}

/** What to start. */
export interface LaunchSpec {
  wrapper: string;
  dir: string;
  cmd: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  hasStdin: boolean;
  /** Wrapper options for the per-process pids limit (pids-limit.ts), placed before `--`. */
  limitArgs: string[];
  /** The wrapper creates `dir` (0700) itself; false when the daemon already made it. */
  mkdir: boolean;
}

/**
 * Finds the compiled wrapper: `CLAUDE_DAEMON_WRAP`, else `claude-daemon-wrap` in dist/ next to (or
 * above) this bundle, wherever the chunk that holds this code landed.
 */
export function findWrapper(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const explicit = env['CLAUDE_DAEMON_WRAP'];
  if (explicit) return explicit;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    for (const candidate of [path.join(dir, 'claude-daemon-wrap'), path.join(dir, 'dist', 'claude-daemon-wrap')]) {
      if (fs.existsSync(candidate)) return candidate;
    }
    dir = path.dirname(dir);
  }
  return undefined;
}

/** Spawns the wrapper and resolves once the command runs, or rejects with LaunchError. */
export function launch(spec: LaunchSpec): Promise<Launched> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(spec.wrapper, [spec.dir, spec.cwd, spec.hasStdin ? '1' : spec.mkdir ? 'm' : '0', ...spec.limitArgs, '--', ...spec.cmd], {
        detached: true,
        stdio: ['ignore', 'pipe', 'ignore'],
        env: spec.env,
      });
    } catch (err) {
      reject(new LaunchError(`cannot run the wrapper ${spec.wrapper}: ${(err as Error).message}`));
      return;
    }
    // The wrapper must never keep the daemon alive; its 'exit' still arrives while the daemon serves.
    child.unref();
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    let line = '';
    let settled = false;
    const settle = (err: Error | undefined, value?: Launched): void => {
      if (settled) return;
      settled = true;
      if (err) reject(err);
      else resolve(value!);
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      settle(new LaunchError(`cannot run the process wrapper ${spec.wrapper} (${err.code ?? err.message}); rebuild with \`node scripts/build.mjs\` (needs a C compiler)`));
    });
    const out = child.stdout!;
    out.setEncoding('latin1');
    out.on('data', (d: string) => {
      line += d;
      const nl = line.indexOf('\n');
      if (nl >= 0) parse(line.slice(0, nl));
    });
    out.on('end', () => parse(line));
    const parse = (text: string): void => {
      if (settled) return;
      const parts = text.split(' ');
      if (parts[0] === 'ok' && parts.length >= 4) {
        settle(undefined, { child, pid: Number(parts[1]), pidStart: Number(parts[2]), wrapperPid: child.pid!, wrapperStart: Number(parts[3]), exited });
        out.destroy();
      } else if (parts[0] === 'err') {
        const errno = Number(parts[1]);
        const stage = parts[2] ?? '?';
        const message = parts.slice(3).join(' ');
        settle(new LaunchError(`${stage}: ${message}${errnoName(errno)}`));
      } else {
        settle(new LaunchError(`the process wrapper ended without reporting (${JSON.stringify(text.slice(0, 200))})`));
      }
    };
  });
}

function errnoName(n: number): string {
  const names: Record<number, string> = { 2: 'ENOENT', 13: 'EACCES', 20: 'ENOTDIR', 8: 'ENOEXEC', 7: 'E2BIG', 12: 'ENOMEM' };
  const name = names[n];
  return name ? ` (${name})` : '';
}
