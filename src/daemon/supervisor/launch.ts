/**
 * Starting one command through the native wrapper (native/wrap.c). The daemon never forks for it:
 * a small launcher process (the wrapper binary in `--server` mode, started once) forks and execs one
 * wrapper per command on request, so a spawn costs the fork of a tiny process instead of copying
 * the page tables of the ~50 MiB daemon on its event-loop thread. The wrapper opens the output
 * files, forks and execs the command, reports one line and then holds no pipe to us. The daemon
 * never touches the command's output.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** How a launched wrapper's watch ended: reaped by the launcher, or the launcher itself died. */
export type WrapperEnd = 'reaped' | 'unwatched';

/** What the wrapper reported once the command was running. */
export interface Launched {
  pid: number;
  pidStart: number;
  wrapperPid: number;
  wrapperStart: number;
  /**
   * Resolves `reaped` when the wrapper has exited (reaped by the launcher, so it leaves no zombie),
   * or `unwatched` when the launcher died first: the wrapper lives on and must be polled.
   */
  exited: Promise<WrapperEnd>;
  /**
   * Resolves when the wrapper says the command has ended while it stays on for descendants that
   * outlived it (the launcher's `e PID`); never settles when the wrapper simply exits (see `exited`).
   */
  cmdEnded: Promise<void>;
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
  /** Wrapper options (pids limit, descendants grace: see wrap.c), placed before `--`. */
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
  if (explicit) return path.resolve(explicit);
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    for (const candidate of [path.join(dir, 'claude-daemon-wrap'), path.join(dir, 'dist', 'claude-daemon-wrap')]) {
      if (fs.existsSync(candidate)) return candidate;
    }
    dir = path.dirname(dir);
  }
  return undefined;
}

interface Pending {
  spec: LaunchSpec;
  /** Launchers this request was sent to so far (it is sent again when one dies before forking it). */
  attempt: number;
  resolve: (l: Launched) => void;
  reject: (e: Error) => void;
}

/** How many launchers a request may outlive before it fails: a launcher that dies at once, again and again, is broken. */
const MAX_ATTEMPTS = 3;

/**
 * One launcher process and the bookkeeping of its replies (see the frame format in serve.c). A
 * request has no `f` line until its wrapper was forked (the child writes it before anything else),
 * so a request still without one when the pipe ends never ran and is sent to a new launcher.
 */
class Launcher {
  private readonly child: ChildProcess;
  private seq = 0;
  private buf = '';
  private dead = false;
  private why = 'the process launcher ended';
  /** The launcher process did start (a wrapper path that cannot run is not retried). */
  private started = false;
  private readonly bySeq = new Map<number, Pending>();
  private readonly byPid = new Map<number, Pending>();
  private readonly exits = new Map<number, (end: WrapperEnd) => void>();
  private readonly cmdEnds = new Map<number, () => void>();

  constructor(
    readonly wrapper: string,
    private readonly onDeath: () => void,
  ) {
    this.child = spawn(wrapper, ['--server'], { detached: true, stdio: ['pipe', 'pipe', 'ignore'] });
    this.child.on('error', (err: NodeJS.ErrnoException) => {
      this.why = `cannot run the process wrapper ${wrapper} (${err.code ?? err.message}); rebuild with \`node scripts/build.mjs\` (needs a C compiler)`;
      this.retire();
      this.settleAll();
    });
    this.child.once('spawn', () => (this.started = true));
    this.child.on('exit', (code, signal) => {
      this.why = `the process launcher exited (${signal ?? `code ${code}`})`;
      this.retire();
    });
    this.child.stdin!.on('error', () => undefined); // EPIPE when it died; 'exit' says so.
    // The end of the pipe, not the launcher's exit, ends the bookkeeping: wrappers it forked hold
    // the pipe until they have reported, so their lines still arrive after the launcher is gone.
    this.child.stdout!.setEncoding('latin1').on('data', (d: string) => this.onData(d));
    this.child.stdout!.on('close', () => {
      this.retire();
      this.settleAll();
    });
    // The launcher must never keep the daemon (or a test process) alive by itself.
    this.child.unref();
    this.unrefStreams();
  }

  launch(spec: LaunchSpec, attempt = 1): Promise<Launched> {
    const argv = [spec.wrapper, spec.dir, spec.cwd, spec.hasStdin ? '1' : spec.mkdir ? 'm' : '0', ...spec.limitArgs, '--', ...spec.cmd];
    const env = Object.entries(spec.env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
    const nul = [...argv, ...env].find((s) => s.includes('\0'));
    if (nul !== undefined) return Promise.reject(new LaunchError(`${JSON.stringify(nul.slice(0, 40))} contains a NUL byte, which no argument or environment entry can hold`));
    const seq = ++this.seq;
    const body = [String(seq), String(argv.length), ...argv, ...env].join('\0') + '\0';
    return new Promise<Launched>((resolve, reject) => {
      this.bySeq.set(seq, { spec, attempt, resolve, reject });
      this.refStreams();
      this.child.stdin!.write(`${Buffer.byteLength(body)}\n${body}`);
    });
  }

  private onData(d: string): void {
    this.buf += d;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      this.onLine(line);
    }
  }

  private onLine(line: string): void {
    const parts = line.split(' ');
    if (parts[0] === 'f') {
      const p = this.bySeq.get(Number(parts[1]));
      if (p === undefined) return;
      this.bySeq.delete(Number(parts[1]));
      const pid = Number(parts[2]);
      if (!pid) return this.settle(p, new LaunchError(`cannot fork the process wrapper: errno ${parts[3] ?? '?'}${errnoName(Number(parts[3]))}`));
      this.byPid.set(pid, p);
    } else if (parts[0] === 'e') {
      const pid = Number(parts[1]);
      const ended = this.cmdEnds.get(pid);
      this.cmdEnds.delete(pid);
      if (ended) setImmediate(ended);
    } else if (parts[0] === 'x') {
      const pid = Number(parts[1]);
      this.cmdEnds.delete(pid);
      const p = this.byPid.get(pid);
      if (p) this.onReport(pid, ''); // Exited without a word.
      // A later turn of the loop, as a child's 'exit' event would be: the spawn that reported `ok`
      // in the same chunk is acknowledged as running before its end is recorded.
      const done = this.exits.get(pid);
      this.exits.delete(pid);
      if (done) setImmediate(() => done('reaped'));
    } else {
      const pid = Number(parts[0]);
      if (this.byPid.has(pid)) this.onReport(pid, parts.slice(1).join(' '));
    }
  }

  /** The wrapper's own line: `ok PID START WSTART WPID` or `err ERRNO STAGE MESSAGE`. */
  private onReport(wpid: number, text: string): void {
    const p = this.byPid.get(wpid)!;
    this.byPid.delete(wpid);
    const parts = text.split(' ');
    if (parts[0] === 'ok' && parts.length >= 4) {
      const exited = new Promise<WrapperEnd>((r) => this.exits.set(wpid, r));
      const cmdEnded = new Promise<void>((r) => this.cmdEnds.set(wpid, r));
      this.settle(p, undefined, { pid: Number(parts[1]), pidStart: Number(parts[2]), wrapperPid: wpid, wrapperStart: Number(parts[3]), exited, cmdEnded });
    } else if (parts[0] === 'err') {
      const errno = Number(parts[1]);
      this.settle(p, new LaunchError(`${parts[2] ?? '?'}: ${parts.slice(3).join(' ')}${errnoName(errno)}`));
    } else {
      this.settle(p, new LaunchError(`the process wrapper ended without reporting (${JSON.stringify(text.slice(0, 200))})`));
    }
  }

  private settle(p: Pending, err: Error | undefined, value?: Launched): void {
    if (err) p.reject(err);
    else p.resolve(value!);
    if (this.bySeq.size === 0 && this.byPid.size === 0) this.unrefStreams();
  }

  /**
   * Takes no more launches: unregistering it (synchronously) sends the next spawn to a new
   * launcher; what is under way carries on.
   */
  private retire(): void {
    if (this.dead) return;
    this.dead = true;
    this.onDeath();
    this.child.stdin!.destroy();
  }

  /**
   * The pipe has ended. Requests never forked go to a new launcher; a wrapper that was forked but
   * never reported failed; running wrappers must now be polled.
   */
  private settleAll(): void {
    const unforked = [...this.bySeq.values()];
    const silent = [...this.byPid.values()];
    this.bySeq.clear();
    this.byPid.clear();
    for (const p of unforked) {
      if (this.started && p.attempt < MAX_ATTEMPTS) launch(p.spec, p.attempt + 1).then(p.resolve, p.reject);
      else p.reject(new LaunchError(this.why));
    }
    for (const p of silent) p.reject(new LaunchError(`${this.why} before the process wrapper reported`));
    for (const r of this.exits.values()) r('unwatched');
    this.exits.clear();
    this.cmdEnds.clear();
    this.child.stdout!.destroy();
  }

  private refStreams(): void {
    (this.child.stdout as unknown as { ref?: () => void }).ref?.();
  }

  private unrefStreams(): void {
    (this.child.stdin as unknown as { unref?: () => void }).unref?.();
    (this.child.stdout as unknown as { unref?: () => void }).unref?.();
  }
}

const launchers = new Map<string, Launcher>();

/**
 * Starts `spec.cmd` through its wrapper and resolves once the command runs, or rejects with
 * LaunchError. The launcher for `spec.wrapper` is started on first use, and again after it died.
 */
export function launch(spec: LaunchSpec, attempt = 1): Promise<Launched> {
  let l = launchers.get(spec.wrapper);
  if (l === undefined) {
    const created = new Launcher(spec.wrapper, () => {
      if (launchers.get(spec.wrapper) === created) launchers.delete(spec.wrapper);
    });
    l = created;
    launchers.set(spec.wrapper, l);
  }
  return l.launch(spec, attempt);
}

function errnoName(n: number): string {
  const names: Record<number, string> = { 2: 'ENOENT', 13: 'EACCES', 20: 'ENOTDIR', 8: 'ENOEXEC', 7: 'E2BIG', 12: 'ENOMEM', 11: 'EAGAIN' };
  const name = names[n];
  return name ? ` (${name})` : '';
}
