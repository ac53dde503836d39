/**
 * Clients that pipeline big replies and never read them: the traffic that once drove the daemon to
 * gigabytes of RSS. Shared by the quick memory test (test/reliability) and the heavy one (test/stress).
 */
import net from 'node:net';
import type { DaemonClient } from '../../src/index.js';
import { waitFor } from './wait.js';

/** Spawns a process that writes exactly `bytes` random bytes to stdout and waits for it to end. */
export async function bigOutput(c: DaemonClient, processId: string, bytes: number): Promise<void> {
  await c.spawnProcess({ cmd: ['head', '-c', String(bytes), '/dev/urandom'], process_id: processId });
  const w = await c.waitProcess({ process_id: processId, timeout_s: 60 });
  if (w.status !== 'exited' || w.stdout_bytes !== bytes) throw new Error(`big output not ready: ${JSON.stringify(w)}`);
}

/** A connection that writes `n` pipelined `read_output` requests and never reads a byte back. */
export class ReadHog {
  closed = false;
  private constructor(readonly socket: net.Socket) {
    socket.on('error', () => undefined);
    socket.on('close', () => (this.closed = true));
  }

  /** Connects and sends the requests at once (with ids when `withIds`). */
  static open(path: string, processId: string, n: number, maxBytes: number, withIds = true): Promise<ReadHog> {
    return new Promise((resolve, reject) => {
      const s = net.createConnection(path);
      s.pause(); // Never read: replies pile up on the daemon's side.
      s.once('connect', () => {
        s.removeListener('error', reject);
        const lines = Array.from({ length: n }, (_, i) =>
          JSON.stringify({ command: 'read_output', process_id: processId, offset: 0, max_bytes: maxBytes, encoding: 'base64', ...(withIds ? { id: i } : {}) }) + '\n',
        );
        s.write(lines.join(''));
        resolve(new ReadHog(s));
      });
      s.once('error', reject);
    });
  }

  /** Hangs up and waits until the socket is closed. */
  async close(): Promise<void> {
    this.socket.destroy();
    await waitFor(() => this.closed, { what: 'the hog to close' });
  }
}
