/**
 * The module host process: every TypeScript/JavaScript module version runs in a worker thread of
 * this process, never in the daemon's. Module code that kills, aborts or exits this process, closes
 * its descriptors or crashes it natively takes down only the host; the daemon sees it go, fails the
 * calls that were running with MODULE_CRASHED and starts a fresh host (host-process.ts).
 *
 * It is never an orphan: it exits when its pipe to the daemon closes (the daemon exited or
 * was killed) and, in case the channel's end is somehow missed, when its parent pid changes.
 */
import net from 'node:net';
import type { Worker } from 'node:worker_threads';
import { JsonLinesChannel } from './host-channel.js';
import type { FromHost, ToHost } from './host-messages.js';
import type { FromRuntime } from './messages.js';
import { forEachLine } from './log-lines.js';
import { WorkerPool } from './worker-pool.js';

const PPID_CHECK_MS = 1_000;

const entry = process.env['CLAUDE_DAEMON_WORKER_ENTRY'];
const memoryMb = Number(process.env['CLAUDE_DAEMON_MODULE_MEMORY_MB'] ?? '256');
if (!entry) {
  process.stderr.write('host-entry runs only as the module host process the claude-daemon starts\n');
  process.exit(2);
}

// Descriptor 3 is the pipe to the daemon (host-process.ts).
const channel = new JsonLinesChannel<ToHost, FromHost>(new net.Socket({ fd: 3, readable: true, writable: true }));
const send = (msg: FromHost): void => {
  channel.send(msg);
};

const pool = new WorkerPool({ entry, env: process.env, memoryMb });

/** A version's worker, or the messages sent to it while it is still being taken from the pool. */
interface Slot {
  worker?: Worker;
  queue: ToHost[];
  terminated: boolean;
}
const workers = new Map<number, Slot>();

function open(w: number): void {
  const slot: Slot = { queue: [], terminated: false };
  workers.set(w, slot);
  pool.take().then(
    (worker) => {
      pool.refill();
      slot.worker = worker;
      let lastError: Error & { code?: string } | undefined;
      forEachLine(worker.stdout, (line) => send({ t: 'log', w, level: 'info', line }));
      forEachLine(worker.stderr, (line) => send({ t: 'log', w, level: 'warn', line }));
      worker.on('message', (m: FromRuntime) => send({ t: 'from', w, m }));
      worker.on('error', (err: Error & { code?: string }) => {
        lastError = err;
        send({ t: 'log', w, level: 'warn', line: `worker error: ${err.stack ?? err.message}` });
      });
      worker.on('exit', (code) => {
        workers.delete(w);
        const error = lastError ? { name: lastError.name, message: lastError.message, ...(lastError.code ? { code: lastError.code } : {}) } : undefined;
        send(error ? { t: 'exit', w, code, error } : { t: 'exit', w, code });
      });
      if (slot.terminated) void worker.terminate();
      for (const msg of slot.queue.splice(0)) handle(msg);
    },
    (err: Error) => {
      workers.delete(w);
      send({ t: 'exit', w, code: -1, error: { name: err.name, message: `could not start a worker thread: ${err.message}` } });
    },
  );
}

function handle(msg: ToHost): void {
  if (msg.t === 'open') return open(msg.w);
  if (msg.t === 'exit') {
    void Promise.allSettled([...workers.values()].map((s) => s.worker?.terminate())).then(() => process.exit(0));
    return;
  }
  const slot = workers.get(msg.w);
  if (!slot) return;
  if (!slot.worker) {
    if (msg.t === 'terminate') slot.terminated = true;
    else slot.queue.push(msg);
    return;
  }
  if (msg.t === 'to') slot.worker.postMessage(msg.m);
  else void slot.worker.terminate();
}

channel.onMessage = handle;
// The daemon is gone (exited, killed, or the channel's descriptor was closed by module code).
channel.onClose = () => process.exit(0);
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, PPID_CHECK_MS).unref();
pool.refill();
send({ t: 'hello', pid: process.pid });
