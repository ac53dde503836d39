/**
 * Leaks: many short cycles must leave the daemon's descriptors, heap in use (after a GC) and RSS
 * flat. Uses the harness in test/helpers/load.ts (`measureCycles`); spawn/wait/remove and module-call
 * cycles (issue 6's 10,000 of each) plug in the same way once those commands exist: one test each,
 * passing their cycle function.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { measureCycles, mib, type LeakFigures } from '../helpers/load.js';

let d: TestDaemon;
before(async () => {
  d = await startTestDaemon({ env: { CLAUDE_DAEMON_QUIET: '1' } });
});
after(async () => {
  await d.stop();
});

/** The shared verdict: no descriptor left behind, heap within 10%, RSS within 20 MiB. */
function assertFlat(what: string, f: LeakFigures): void {
  console.log(
    `${what}: fds ${f.fds.before} -> ${f.fds.after}, heap ${mib(f.heapUsed.before)} -> ${mib(f.heapUsed.after)} MiB, RSS ${mib(f.rss.before)} -> ${mib(f.rss.after)} MiB`,
  );
  assert.ok(f.fds.after <= f.fds.before, `${what}: descriptors grew from ${f.fds.before} to ${f.fds.after}`);
  assert.ok(f.heapUsed.after <= f.heapUsed.before * 1.1, `${what}: heap grew from ${mib(f.heapUsed.before)} to ${mib(f.heapUsed.after)} MiB`);
  assert.ok(f.rss.after - f.rss.before < 20 * 1024 * 1024, `${what}: RSS grew from ${mib(f.rss.before)} to ${mib(f.rss.after)} MiB`);
}

/** One connection: connect, one request (or a half line), then close the way `i` says. */
function connectionCycle(socket: string, i: number): Promise<void> {
  return new Promise((resolve) => {
    const s = net.createConnection(socket);
    s.on('error', () => undefined);
    s.on('close', () => resolve());
    s.on('connect', () => {
      switch (i % 3) {
        case 0:
          s.once('data', () => s.end());
          s.write('{"command":"ping","id":1}\n');
          break;
        case 1:
          s.resume();
          s.end('{"command":"nope"}\n{"command":"ping"}\n');
          break;
        default:
          s.write('{"command":"ping","pad":"');
          s.destroy();
      }
    });
  });
}

test('10,000 connection cycles leave descriptors, heap and RSS flat', async () => {
  assertFlat('10,000 connections', await measureCycles(d.socket, d.proc.pid!, { count: 10_000, concurrency: 50 }, (i) => connectionCycle(d.socket, i)));
});
