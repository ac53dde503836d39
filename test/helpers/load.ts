/**
 * Load and hostile-client generators shared by the reliability tests, the stress tests and the
 * reliability benchmark, so the figures in the bench come from the same traffic the tests assert on.
 * Everything speaks raw bytes over node:net (no client library in the way of what is measured).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { FIXTURES } from './daemon.js';
import { waitFor } from './wait.js';

/** One pipelined ping connection: keeps up to `window` pings in flight, checks every reply. */
export class PingPipe {
  sent = 0;
  answered = 0;
  bad: string[] = [];
  readonly latenciesMs: number[] = [];
  private readonly inFlight = new Map<number, number>();
  private buf = '';
  private nextId = 1;
  private target = 0;
  private window = 1;
  private onIdle: (() => void) | undefined;

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => this.onData(d));
    socket.on('error', (e) => this.bad.push(`socket error: ${e.message}`));
  }

  /** Connects; retries while the listen backlog is full (EAGAIN), rejects on any other error. */
  static async open(path: string): Promise<PingPipe> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await new Promise<PingPipe>((resolve, reject) => {
          const s = net.createConnection(path);
          s.once('connect', () => {
            s.removeListener('error', reject);
            resolve(new PingPipe(s));
          });
          s.once('error', reject);
        });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || attempt >= 50) throw err;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  }

  /** Sends `n` pings keeping at most `window` in flight; resolves when all are answered. */
  run(n: number, window: number): Promise<void> {
    this.target = this.sent + n;
    return new Promise((resolve) => {
      this.onIdle = resolve;
      this.fill(window);
      if (this.answered >= this.target) resolve();
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private fill(window?: number): void {
    if (window !== undefined) this.window = window;
    let out = '';
    while (this.inFlight.size < this.window && this.sent < this.target) {
      const id = this.nextId++;
      this.inFlight.set(id, performance.now());
      this.sent++;
      out += `{"command":"ping","id":${id}}\n`;
    }
    if (out !== '') this.socket.write(out);
  }

  private onData(d: string): void {
    this.buf += d;
    let start = 0;
    let nl: number;
    while ((nl = this.buf.indexOf('\n', start)) !== -1) {
      this.onLine(this.buf.slice(start, nl));
      start = nl + 1;
    }
    this.buf = this.buf.slice(start);
    if (this.answered >= this.target && this.onIdle) {
      const f = this.onIdle;
      this.onIdle = undefined;
      f();
    } else this.fill();
  }

  private onLine(line: string): void {
    let r: { success?: unknown; id?: unknown; result?: { pong?: unknown } };
    try {
      r = JSON.parse(line) as typeof r;
    } catch {
      this.bad.push(`not JSON: ${line.slice(0, 200)}`);
      return;
    }
    const t0 = typeof r.id === 'number' ? this.inFlight.get(r.id) : undefined;
    if (r.success !== true || r.result?.pong !== true || t0 === undefined) {
      this.bad.push(`unexpected reply: ${line.slice(0, 200)}`);
      return;
    }
    this.inFlight.delete(r.id as number);
    this.latenciesMs.push(performance.now() - t0);
    this.answered++;
  }
}

/** Opens `n` connections, `batch` at a time (a burst of thousands would overflow the listen backlog). */
export async function openPipes(path: string, n: number, batch = 100): Promise<PingPipe[]> {
  const out: PingPipe[] = [];
  while (out.length < n) {
    const k = Math.min(batch, n - out.length);
    out.push(...(await Promise.all(Array.from({ length: k }, () => PingPipe.open(path)))));
  }
  return out;
}

/**
 * A client that floods the daemon: it writes pings as fast as the socket takes them. If `read` is
 * false it never reads a reply (the daemon must push back and eventually disconnect it).
 */
export class Flooder {
  repliesBytes = 0;
  /** The first 64 KiB of replies, for assertions on what the daemon said. */
  repliesText = '';
  /** Bytes handed to the socket so far (accepted by the daemon = written - unsentBytes). */
  written = 0;
  closed = false;
  private stopped = false;
  private constructor(
    readonly socket: net.Socket,
    read: boolean,
    private readonly chunk: string | Buffer,
    private readonly limit: number,
  ) {
    socket.on('error', () => undefined);
    socket.on('close', () => (this.closed = true));
    if (read)
      socket.on('data', (d: Buffer) => {
        this.repliesBytes += d.length;
        if (this.repliesText.length < 65536) this.repliesText += d.toString('utf8');
      });
    else socket.pause();
    socket.on('drain', () => this.pump());
    this.pump();
  }

  /** Connects and starts flooding immediately: `chunk` (default: 2,000 pings) again and again, up to `limit` bytes. */
  static open(path: string, read: boolean, chunk: string | Buffer = '{"command":"ping"}\n'.repeat(2000), limit = Infinity): Promise<Flooder> {
    return new Promise((resolve, reject) => {
      const s = net.createConnection(path);
      s.once('connect', () => {
        s.removeListener('error', reject);
        resolve(new Flooder(s, read, chunk, limit));
      });
      s.once('error', reject);
    });
  }

  /** Bytes the daemon has taken from us (it stops taking them when it stops reading). */
  get acceptedBytes(): number {
    return this.written - this.socket.writableLength;
  }

  stop(): void {
    this.stopped = true;
    this.socket.destroy();
  }

  private pump(): void {
    while (!this.stopped && !this.socket.destroyed && this.written < this.limit) {
      this.written += this.chunk.length;
      if (!this.socket.write(this.chunk)) break;
    }
  }
}

/** Sequential pings on a dedicated connection, timing each: the well-behaved client. */
export async function probeLatency(pipe: PingPipe, count: number): Promise<number[]> {
  const before = pipe.latenciesMs.length;
  for (let i = 0; i < count; i++) await pipe.run(1, 1);
  return pipe.latenciesMs.slice(before);
}

/** The p-th percentile (0..100) of `xs`, nearest rank. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** Open file descriptors of a process (Linux /proc). */
export function fdCount(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/**
 * The daemon's descriptor count once it has stopped changing (the same over 5 polls, 200 ms): a
 * connection that a client just closed leaves the daemon's table a moment later, so a count taken
 * at once may include it and inflate every baseline computed from it.
 */
export async function settledFdCount(pid: number): Promise<number> {
  let last = -1;
  let same = 0;
  return waitFor(
    () => {
      const now = fdCount(pid);
      same = now === last ? same + 1 : 0;
      last = now;
      return same >= 4 ? now : undefined;
    },
    { intervalMs: 50, what: 'daemon descriptors to settle' },
  );
}

/** Resident set size and its peak so far (VmHWM) of a process, in bytes (Linux /proc). */
export function rssOf(pid: number): { rss: number; peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** Asks the daemon for its memory figures, after a full GC when `gc` is set. */
export async function daemonMemory(path: string, gc: boolean): Promise<{ rss: number; heap_used: number }> {
  const p = await PingPipe.open(path);
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let buf = '';
      p.socket.removeAllListeners('data');
      p.socket.on('data', (d: string) => {
        buf += d;
        const nl = buf.indexOf('\n');
        if (nl !== -1) resolve(buf.slice(0, nl));
      });
      p.socket.on('error', reject);
      p.socket.write(JSON.stringify({ command: 'ping', stats: true, gc }) + '\n');
    });
    const r = JSON.parse(line) as { result?: { memory?: { rss: number; heap_used: number } } };
    if (!r.result?.memory) throw new Error(`ping stats gave no memory: ${line}`);
    return r.result.memory;
  } finally {
    p.close();
  }
}

/** MiB with one decimal, for messages and bench output. */
export function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

/**
 * Starts `n` flooding clients in a separate process (test/fixtures/socket-flood.cjs), so the process that
 * measures latency is not itself slowed by reading the flood's replies; resolves once all connected.
 */
export function startFloodProcess(socket: string, n: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(FIXTURES, 'socket-flood.cjs'), socket, String(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (d.includes('ready')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`flood process exited early (${code})`)));
  });
}

/** Stops a flood process and waits for it to exit. */
export function stopFloodProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Descriptors, heap in use (after a GC) and RSS of the daemon, before and after a run of cycles. */
export interface LeakFigures {
  fds: { before: number; after: number };
  heapUsed: { before: number; after: number };
  rss: { before: number; after: number };
}

/**
 * The leak harness: runs `cycle` `count` times (`concurrency` at a time) against a daemon after a
 * warm-up, then measures what stayed behind once its descriptors have settled. Any kind of cycle
 * plugs in: a connection, a spawn/wait/remove, a module call.
 */
export async function measureCycles(
  socket: string,
  pid: number,
  opts: { count: number; concurrency: number; warmup?: number },
  cycle: (i: number) => Promise<void>,
): Promise<LeakFigures> {
  const runMany = async (n: number, offset: number): Promise<void> => {
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(opts.concurrency, n) }, async () => {
        while (next < n) await cycle(offset + next++);
      }),
    );
  };
  // The warm-up takes the allocator and JIT to their steady state (the first thousands of cycles
  // grow RSS once, by ~30 MiB, then it stays flat), so what is measured after it is a leak.
  const warmup = opts.warmup ?? Math.ceil(opts.count / 2);
  await runMany(warmup, 0);
  const settled = async (target: number): Promise<number> => {
    // Closed connections leave the daemon's table a moment later.
    await waitFor(() => fdCount(pid) <= target, { timeoutMs: 10_000 }).catch(() => undefined);
    return fdCount(pid);
  };
  const fdsBefore = await settledFdCount(pid);
  const memBefore = await daemonMemory(socket, true);
  await runMany(opts.count, warmup);
  const fdsAfter = await settled(fdsBefore);
  const memAfter = await daemonMemory(socket, true);
  return {
    fds: { before: fdsBefore, after: fdsAfter },
    heapUsed: { before: memBefore.heap_used, after: memAfter.heap_used },
    rss: { before: memBefore.rss, after: memAfter.rss },
  };
}
