/**
 * Starting one command through the native wrapper (native/wrap.c). The daemon never forks for it:
 * a small launcher process (the wrapper binary in `--server` mode, started once) forks and execs one
 * wrapper per command on request, so a spawn costs the fork of a tiny process instead of copying
 * the page tables of the ~50 MiB daemon on its event-loop thread. The wrapper opens the output
 * files, forks and execs the command, and reports one line on the launcher's stdout. It also holds
 * the launcher's report channel (its fd 3, one per launcher, not per child) for its whole life, and
 * sends the command's exit status there when it ends: no file needed, so a full disk or a descriptor
 * shortage in the daemon never loses an exit status. The daemon never touches the command's output.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExitFile } from './store.js';

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
   * Resolves with the command's outcome as the wrapper reported it over the report channel, before
   * (and whether or not) it could write its exit file; never resolves if no report came. Sent the
   * moment the command ends, also when the wrapper then stays on for descendants the command left
   * behind (wrap.c, linger): `exited` comes only once those have ended too.
   */
  reported: Promise<ExitReport>;
}

/** The wrapper's report: the exit record, and whether it stays on for the command's leftovers. */
export interface ExitReport extends ExitFile {
  /** The command left descendants behind: the wrapper stays (wrap.c, linger) until they end. */
  lingering?: boolean;
}

/** The command could not start; `reason` is the OS's word for why, e.g. `exec: No such file or directory (ENOENT)`. */
export class LaunchError extends Error {
  override name = 'LaunchError';
  constructor(
    message: string,
    /** The errno name when one is known (`EMFILE`, `ENOSPC`...), so callers can tell a full disk from a typo. */
    readonly code?: string,
  ) {
    super(message);
  }
}

/** What to start. */
export interface LaunchSpec {
  wrapper: string;
  dir: string;
  cmd: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  hasStdin: boolean;
  /** A live session's input: the wrapper creates and holds the FIFO DIR/stdin (wrap.c mode "f"). */
  fifo?: boolean | undefined;
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

/** Descriptors of wrapper binaries held open by pinWrapper, by path. */
const pinned = new Map<string, number>();

/**
 * Holds the wrapper binary open for the daemon's life, so that deleting or replacing `dist/` (a
 * rebuild, `npm test`) while the daemon runs never fails a spawn: the launcher is started through
 * /proc/self/fd/N (the same inode, whatever happened to the path since) and starts each wrapper
 * through its own /proc/self/exe (serve.c). The path stays argv[0], which restore reads from /proc.
 * Returns the path, or undefined when it cannot be opened.
 */
export function pinWrapper(wrapper: string | undefined): string | undefined {
  if (wrapper === undefined || pinned.has(wrapper)) return wrapper;
  let fd: number;
  try {
    fd = fs.openSync(wrapper, 'r');
  } catch {
    return undefined;
  }
  // Only a binary runs through /proc/self/fd (a script's interpreter could not open that path once
  // the descriptor closes at exec): a script given as CLAUDE_DAEMON_WRAP is run by its path.
  const head = Buffer.alloc(4);
  if (fs.readSync(fd, head, 0, 4, 0) === 4 && head.toString('latin1') === '\x7fELF') pinned.set(wrapper, fd);
  else fs.closeSync(fd);
  return wrapper;
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
  private code: string | undefined;
  /** The launcher process did start (a wrapper path that cannot run is not retried). */
  private started = false;
  private readonly bySeq = new Map<number, Pending>();
  private readonly byPid = new Map<number, Pending>();
  private readonly exits = new Map<number, (end: WrapperEnd) => void>();
  /**
   * Exit reports by wrapper `pid:start` (a pid reused later is another key): waiting for one
   * (`reporters`), or arrived before the wrapper's `ok` was read (`early`). The report channel and
   * the launcher's stdout are two sockets, so a report may also arrive after the wrapper's `x`:
   * both maps keep a key 10 s past it.
   */
  private readonly reporters = new Map<string, (ex: ExitReport) => void>();
  private readonly early = new Map<string, ExitReport>();
  /** Wrappers reaped before their report arrived (report and reaping come on two channels), by pid: when. */
  private readonly reapedUnreported = new Map<number, number>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private reportBuf = '';

  constructor(
    readonly wrapper: string,
    private readonly onDeath: () => void,
  ) {
    const fd = pinned.get(wrapper);
    const file = fd !== undefined && fs.existsSync(`/proc/self/fd/${fd}`) ? `/proc/self/fd/${fd}` : wrapper;
    this.child = spawn(file, ['--server'], { argv0: wrapper, detached: true, stdio: ['pipe', 'pipe', 'ignore', 'pipe'] });
    this.child.on('error', (err: NodeJS.ErrnoException) => {
      this.code = err.code;
      this.why = err.code === 'EMFILE' || err.code === 'ENFILE'
        ? `cannot start the process launcher: no file descriptor left (${err.code})`
        : `cannot run the process wrapper ${wrapper} (${err.code ?? err.message}); rebuild with \`node scripts/build.mjs\` (needs a C compiler)`;
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
    // Outlives the launcher: wrappers hold it until they end. Never keeps the daemon alive.
    const reports = this.child.stdio[3] as (NodeJS.ReadableStream & { unref?: () => void; destroy?: () => void }) | null;
    if (reports) {
      reports.setEncoding('latin1');
      reports.on('data', (d: string) => this.onReports(d));
      reports.on('error', () => undefined);
      reports.unref?.();
    }
    // The launcher must never keep the daemon (or a test process) alive by itself.
    this.child.unref();
    this.unrefStreams();
  }

  launch(spec: LaunchSpec, attempt = 1): Promise<Launched> {
    const argv = [spec.wrapper, spec.dir, spec.cwd, spec.fifo === true ? 'f' : spec.hasStdin ? '1' : spec.mkdir ? 'm' : '0', '-r', '3', ...spec.limitArgs, '--', ...spec.cmd];
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

  /** Lines `e WPID {exit record}` from wrappers whose command has ended. */
  private onReports(d: string): void {
    this.reportBuf += d;
    let nl: number;
    while ((nl = this.reportBuf.indexOf('\n')) >= 0) {
      const line = this.reportBuf.slice(0, nl);
      this.reportBuf = this.reportBuf.slice(nl + 1);
      const m = /^e (\d+ \d+) (\{.*\})$/.exec(line);
      if (m === null) continue;
      let ex: ExitReport;
      try {
        ex = JSON.parse(m[2]!) as ExitReport;
      } catch {
        continue;
      }
      if (typeof ex.ended_at_ms !== 'number') continue;
      const key = m[1]!.replace(' ', ':');
      const r = this.reporters.get(key);
      this.reporters.delete(key);
      this.reapedUnreported.delete(Number(key.split(':')[0]));
      if (r) r(ex);
      else if (this.byPid.has(Number(key.split(':')[0])) || this.bySeq.size > 0) this.early.set(key, ex); // its `ok` (or `f`) line is not read yet
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
    } else if (parts[0] === 'x') {
      const pid = Number(parts[1]);
      const p = this.byPid.get(pid);
      if (p) this.onReport(pid, ''); // Exited without a word.
      // A later turn of the loop, as a child's 'exit' event would be: the spawn that reported `ok`
      // in the same chunk is acknowledged as running before its end is recorded.
      const done = this.exits.get(pid);
      this.exits.delete(pid);
      // A report always precedes the wrapper's exit, so by now it has arrived, or it never will.
      setImmediate(() => done?.('reaped'));
      // A report still awaited (or one whose `ok` line never came) is given up 10 s later, by one
      // sweep for all such wrappers. Usually the report came first and nothing is left to sweep.
      if (this.unreportedKeys(pid).length > 0) this.expectLateReport(pid);
    } else {
      const pid = Number(parts[0]);
      if (this.byPid.has(pid)) this.onReport(pid, parts.slice(1).join(' '));
    }
  }

  /** Keys (`PID:START`) of reports still awaited, or arrived before their `ok` line, for wrapper `pid`. */
  private unreportedKeys(pid: number): string[] {
    return [...this.reporters.keys(), ...this.early.keys()].filter((key) => key.startsWith(`${pid}:`));
  }

  /** Gives the report of reaped wrapper `pid` 10 s to arrive, then forgets it. */
  private expectLateReport(pid: number): void {
    this.reapedUnreported.set(pid, Date.now());
    this.sweepTimer ??= setInterval(() => {
      for (const [p, at] of this.reapedUnreported) {
        if (Date.now() - at < 10_000) continue;
        for (const key of this.unreportedKeys(p)) {
          this.reporters.delete(key);
          this.early.delete(key);
        }
        this.reapedUnreported.delete(p);
      }
      if (this.reapedUnreported.size === 0) {
        clearInterval(this.sweepTimer);
        this.sweepTimer = undefined;
      }
    }, 1000).unref();
  }

  /** The wrapper's own line: `ok PID START WSTART WPID` or `err ERRNO STAGE MESSAGE`. */
  private onReport(wpid: number, text: string): void {
    const p = this.byPid.get(wpid)!;
    this.byPid.delete(wpid);
    const parts = text.split(' ');
    if (parts[0] === 'ok' && parts.length >= 4) {
      const exited = new Promise<WrapperEnd>((r) => this.exits.set(wpid, r));
      const key = `${wpid}:${parts[3]}`;
      const early = this.early.get(key);
      this.early.delete(key);
      const reported = early !== undefined ? Promise.resolve(early) : new Promise<ExitReport>((r) => this.reporters.set(key, r));
      this.settle(p, undefined, { pid: Number(parts[1]), pidStart: Number(parts[2]), wrapperPid: wpid, wrapperStart: Number(parts[3]), exited, reported });
    } else if (parts[0] === 'err') {
      const errno = Number(parts[1]);
      this.settle(p, new LaunchError(`${parts[2] ?? '?'}: ${parts.slice(3).join(' ')}${errnoName(errno)}`, ERRNO_NAMES[errno]));
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
      else p.reject(new LaunchError(this.why, this.code));
    }
    for (const p of silent) p.reject(new LaunchError(`${this.why} before the process wrapper reported`));
    for (const r of this.exits.values()) r('unwatched');
    this.exits.clear();
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

/** Linux errno numbers the wrapper may report, by name. */
const ERRNO_NAMES: Record<number, string> = { 2: 'ENOENT', 5: 'EIO', 13: 'EACCES', 20: 'ENOTDIR', 8: 'ENOEXEC', 7: 'E2BIG', 12: 'ENOMEM', 11: 'EAGAIN', 23: 'ENFILE', 24: 'EMFILE', 28: 'ENOSPC', 30: 'EROFS', 122: 'EDQUOT' };

function errnoName(n: number): string {
  const name = ERRNO_NAMES[n];
  return name ? ` (${name})` : '';
}
