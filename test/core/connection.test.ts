/**
 * Connection and dispatch behaviour that only shows in the order or timing of replies, tested
 * against a daemon running in this process (startDaemon never exits the process), so the tests can
 * set a small in-flight cap and read the supervisor's waiter count: id-less replies in request
 * order, reading paused at the in-flight cap, SHUTTING_DOWN during the drain, and waits that time
 * out or are abandoned leaving no waiter behind. Each test would fail if its behaviour were removed
 * (checked by hand: see docs/guarantees.md).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { resolveConfig, type DaemonConfig } from '../../src/daemon/config.js';
import { startDaemon, type RunningDaemon } from '../../src/daemon/daemon.js';
import { FIXTURES } from '../helpers/daemon.js';
import { RawConn, type Reply } from '../helpers/raw.js';
import { waitFor } from '../helpers/wait.js';

const IN_FLIGHT_CAP = 64;
const FAKE_CLAUDE = path.join(FIXTURES, 'fake-claude', 'claude');
const dirs: string[] = [];
let d: RunningDaemon;
let socket: string;

/** A daemon in this process, in its own temp dir; `tweak` adjusts its config. */
async function inProcessDaemon(tweak: Partial<DaemonConfig> = {}): Promise<{ daemon: RunningDaemon; socket: string; modulesDir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cd-test-'));
  dirs.push(dir);
  const modulesDir = path.join(dir, 'modules');
  fs.mkdirSync(modulesDir);
  const config = { ...resolveConfig({ socket: path.join(dir, 'daemon.sock'), home: path.join(dir, 'home'), modulesDir, logToStderr: false }), ...tweak };
  return { daemon: await startDaemon(config), socket: config.socketPath, modulesDir };
}

before(async () => {
  ({ daemon: d, socket } = await inProcessDaemon({ maxInFlightPerConnection: IN_FLIGHT_CAP }));
});
after(async () => {
  await d.shutdown({ killProcesses: true });
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

const line = (o: Record<string, unknown>): string => JSON.stringify(o) + '\n';
const kind = (r: Reply): string => {
  const res = r.result as Record<string, unknown> | undefined;
  if (res === undefined) return String(r.code);
  return 'pong' in res ? 'ping' : 'data' in res ? 'read' : 'record';
};

/** The replies that arrive on `raw` after the first `skip`, once there are `n` of them. */
async function nextReplies(raw: RawConn, skip: number, n: number, timeoutMs = 10_000): Promise<Reply[]> {
  return (await raw.waitReplies(skip + n, timeoutMs)).slice(skip);
}

test('id-less replies that finish asynchronously are written in request order; replies with ids are not held back', async () => {
  const raw = await RawConn.open(socket);
  try {
    await raw.request({ command: 'spawn_process', cmd: ['sleep', '0.4'], process_id: 'slow' });
    // An async wait, then a sync ping, a sync info and an async read, all without ids; then a ping with an id.
    raw.send(
      line({ command: 'wait_process', process_id: 'slow' }) +
        line({ command: 'ping' }) +
        line({ command: 'process_info', process_id: 'slow' }) +
        line({ command: 'read_output', process_id: 'slow' }) +
        line({ command: 'ping', id: 'quick' }),
    );
    const replies = await nextReplies(raw, 1, 5);
    assert.equal(replies[0]!.id, 'quick', 'the reply with an id is written as soon as it is ready');
    const idless = replies.slice(1);
    assert.equal((idless[0]!.result as { status: string }).status, 'exited', 'the wait came first, as it was sent first');
    assert.equal(kind(idless[1]!), 'ping');
    assert.equal((idless[2]!.result as { process_id: string }).process_id, 'slow');
    assert.equal(kind(idless[2]!), 'record');
    assert.equal(kind(idless[3]!), 'read');
  } finally {
    raw.close();
  }
});

test('reading pauses at the in-flight request cap: a ping sent behind cap + 36 waits is read only once half of them have ended', async () => {
  const raw = await RawConn.open(socket);
  try {
    await raw.request({ command: 'spawn_process', cmd: ['sleep', '60'], process_id: 'long' });
    const n = IN_FLIGHT_CAP + 36;
    let out = '';
    for (let i = 0; i < n; i++) out += line({ command: 'wait_process', process_id: 'long', timeout_s: 1, id: i });
    raw.send(out + line({ command: 'ping', id: 'behind' }));
    const replies = await nextReplies(raw, 1, n + 1, 30_000);
    const at = replies.findIndex((r) => r.id === 'behind');
    // The cap pauses reading at IN_FLIGHT_CAP waits; it resumes below half of it. Without the cap
    // the ping (answered at once) would be the first reply.
    assert.ok(at > IN_FLIGHT_CAP / 2, `the ping was reply #${at}, before ${IN_FLIGHT_CAP / 2} waits had ended`);
    assert.ok(replies.filter((r) => r.id !== 'behind').every((r) => (r.result as { timed_out?: boolean }).timed_out === true));
    await raw.request({ command: 'kill_process', process_id: 'long' });
  } finally {
    raw.close();
  }
});

test('timed-out and abandoned waits (wait_process and claude_result wait) leave no waiter behind', async () => {
  const sup = d.services.processes;
  const raw = await RawConn.open(socket);
  try {
    await raw.request({ command: 'spawn_process', cmd: [FAKE_CLAUDE, '-p', '--output-format', 'stream-json', '--verbose', '--', 'FAKE_HANG_MID'], process_id: 'hang' });
    for (let i = 0; i < 20; i++) {
      const w = await raw.request({ command: 'wait_process', process_id: 'hang', timeout_s: 0.005 });
      assert.equal((w.result as { timed_out?: boolean }).timed_out, true);
      const cr = await raw.request({ command: 'claude_result', process_id: 'hang', wait: true, timeout_s: 0.005 });
      assert.equal((cr.result as { timed_out?: boolean }).timed_out, true, JSON.stringify(cr));
    }
    assert.equal(sup.waiters('hang'), 0, 'timed-out waits removed themselves');
    // Waits with no timeout, abandoned by a client that dies with a reply unread (the daemon sees
    // the connection reset). A clean hang-up with nothing unread looks like a half-close (`nc -N`)
    // until the daemon writes; see "Not promised" in docs/guarantees.md.
    const gone = net.createConnection(socket);
    gone.pause();
    await new Promise((r) => gone.once('connect', r));
    let out = line({ command: 'ping', id: 'unread' }); // Answered first, and never read.
    for (let j = 0; j < 20; j++) out += line({ command: 'wait_process', process_id: 'hang', id: `w${j}` }) + line({ command: 'claude_result', process_id: 'hang', wait: true, id: `c${j}` });
    gone.write(out);
    await waitFor(() => sup.waiters('hang') === 40, { what: `40 pending waits (have ${sup.waiters('hang')})` });
    gone.destroy();
    await waitFor(() => sup.waiters('hang') === 0, { what: `abandoned waits to go (still ${sup.waiters('hang')})` });
    await raw.request({ command: 'kill_process', process_id: 'hang', signal: 'SIGKILL' });
  } finally {
    raw.close();
  }
});

test('requests that arrive while the daemon shuts down get SHUTTING_DOWN; requests in flight still finish', async () => {
  const t = await inProcessDaemon();
  fs.writeFileSync(path.join(t.modulesDir, 'slow.mjs'), 'export async function nap(ms) { await new Promise((r) => setTimeout(r, ms)); return "rested"; }\n');
  const busy = await RawConn.open(t.socket);
  const late = await RawConn.open(t.socket);
  const admin = await RawConn.open(t.socket);
  try {
    assert.equal((await late.request({ command: 'ping' })).success, true);
    busy.send(line({ command: 'call_function', module_name: 'slow', function_name: 'nap', args: [3000], id: 'nap' }));
    const s = await admin.request({ command: 'shutdown' });
    assert.equal(s.success, true);
    // The nap keeps the daemon draining; what arrives now is refused, with or without an id.
    late.send(line({ command: 'ping', id: 'after' }) + line({ command: 'ping' }));
    const [a, b] = await nextReplies(late, 1, 2);
    assert.equal(a!.id, 'after');
    assert.equal(a!.code, 'SHUTTING_DOWN');
    assert.equal(b!.id, undefined);
    assert.equal(b!.code, 'SHUTTING_DOWN');
    const nap = await waitFor(() => busy.replies.find((r) => r.id === 'nap'), { what: 'the nap to finish', timeoutMs: 60_000 });
    assert.equal(nap.result, 'rested');
    await t.daemon.closed;
  } finally {
    busy.close();
    late.close();
    admin.close();
    await t.daemon.shutdown();
  }
});
