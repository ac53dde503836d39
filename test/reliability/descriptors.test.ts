/**
 * Descriptor exhaustion: a daemon under `ulimit -n 64` and more connections than that. Answers are
 * right or clear errors (RESOURCE_EXHAUSTED), never wrong; exit codes survive; connections beyond
 * the daemon's budget get RESOURCE_EXHAUSTED and are closed, so files and spawns keep working; the
 * daemon does not spin while exhausted; and once descriptors free up, everything is consistent.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { connect, DaemonError, type DaemonClient } from '../../src/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';
import { fdCount, waitOutput } from '../processes/util.js';

/** utime + stime of `pid`, in clock ticks. */
function cpuTicks(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'latin1').slice(fs.readFileSync(`/proc/${pid}/stat`, 'latin1').lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

/** Soft and hard "Max open files" of `pid`. */
function fileLimits(pid: number): { soft: string; hard: string } {
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(fs.readFileSync(`/proc/${pid}/limits`, 'utf8'));
  return { soft: m?.[1] ?? '?', hard: m?.[2] ?? '?' };
}

/** Opens `n` raw connections; each collects what the daemon sent before it closed (if it did). */
function openMany(socket: string, n: number): Array<{ s: net.Socket; got: string; closed: boolean }> {
  return Array.from({ length: n }, () => {
    const c = { s: net.createConnection(socket), got: '', closed: false };
    c.s.setEncoding('utf8');
    c.s.on('data', (x: string) => (c.got += x));
    c.s.on('error', () => undefined);
    c.s.on('close', () => (c.closed = true));
    return c;
  });
}

/** The reply of `p`, or its error code. */
async function settle<T>(p: Promise<T>): Promise<{ ok: T } | { code: string }> {
  try {
    return { ok: await p };
  } catch (err) {
    return { code: err instanceof DaemonError ? err.code : String(err) };
  }
}

/** Spawns `n` processes that print `out<i>` and exit 7 once `go` exists. */
async function spawnWaiters(c: DaemonClient, go: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await c.spawnProcess({ process_id: `w${i}`, cmd: ['sh', '-c', `echo out${i}; while [ ! -e ${go} ]; do sleep 0.02; done; exit 7`] });
    ids.push(r.process_id);
  }
  for (const id of ids) await waitOutput(c, id, 'out');
  return ids;
}

async function withDaemon(opts: Parameters<typeof startTestDaemon>[0], body: (d: TestDaemon, c: DaemonClient) => Promise<void>): Promise<void> {
  const d = await startTestDaemon(opts);
  try {
    await body(d, await d.client());
  } finally {
    // Whatever failed above, no process of this daemon outlives it, nor the daemon itself (a
    // `shutdown` sent while it still refuses connections would be refused too).
    fs.writeFileSync(path.join(d.dir, 'go'), '');
    await waitFor(() => fdCount(d.proc.pid!) < 40, { what: 'the daemon to have descriptors again', timeoutMs: 15_000 }).catch(() => undefined);
    const stopped = d.stop({ killProcesses: true });
    const timer = setTimeout(() => d.proc.kill('SIGKILL'), 20_000);
    await stopped;
    clearTimeout(timer);
    fs.rmSync(d.dir, { recursive: true, force: true });
  }
}

test('the daemon raises its soft descriptor limit to the hard limit', async () => {
  await withDaemon({ ulimit: '-Sn 64' }, async (d) => {
    const { soft, hard } = fileLimits(d.proc.pid!);
    assert.notEqual(soft, '64');
    assert.equal(soft, hard);
  });
});

test('with every descriptor taken, answers are right or RESOURCE_EXHAUSTED, exit codes survive, no spinning, all consistent after', async (t) => {
  // No connection budget: the connections take every descriptor, so every file open fails.
  await withDaemon({ ulimit: '-n 64', env: { CLAUDE_DAEMON_FD_RESERVE: '0' } }, async (d, c) => {
    const go = path.join(d.dir, 'go');
    const ids = await spawnWaiters(c, go, 4);
    const conns = openMany(d.socket, 100);
    try {
      await waitFor(() => fdCount(d.proc.pid!) >= 63, { what: 'the daemon to run out of descriptors' });
      fs.writeFileSync(go, '');
      for (const id of ids) {
        const r = await c.waitProcess({ process_id: id, timeout_s: 20 });
        assert.equal(r.status, 'exited', JSON.stringify(r));
        assert.equal(r.exit_code, 7);
      }
      let refusals = 0;
      for (const [i, id] of ids.entries()) {
        const r = await settle(c.readOutput({ process_id: id }));
        if ('ok' in r) assert.equal(r.ok.data, `out${i}\n`, `a read answers right or fails: ${JSON.stringify(r.ok)}`);
        else assert.equal(r.code, 'RESOURCE_EXHAUSTED');
        if ('code' in r) refusals++;
      }
      const s = await settle(c.spawnProcess({ process_id: 'during', cmd: ['sh', '-c', 'exit 3'] }));
      if ('code' in s) assert.equal(s.code, 'RESOURCE_EXHAUSTED');
      if ('code' in s) refusals++;
      assert.ok(refusals > 0, 'the daemon really was out of descriptors (else this test proves nothing)');
      // Not spinning: CPU time over a window in which 50 more clients knock, with a wide margin.
      const t0 = cpuTicks(d.proc.pid!);
      const knock = openMany(d.socket, 50);
      await new Promise((r) => setTimeout(r, 2000));
      for (const k of knock) k.s.destroy();
      const used = cpuTicks(d.proc.pid!) - t0;
      t.diagnostic(`CPU while exhausted: ${used} ticks in 2 s`);
      assert.ok(used < 100, `the daemon used ${used} ticks of CPU in 2 s while exhausted`);
      if ('ok' in s) assert.equal((await c.waitProcess({ process_id: 'during', timeout_s: 20 })).exit_code, 3);
      else assert.equal((await settle(c.processInfo('during')) as { code: string }).code, 'PROCESS_NOT_FOUND');
    } finally {
      for (const k of conns) k.s.destroy();
    }
    // Descriptors back: everything reads right and reaches disk, without a restart.
    for (const [i, id] of ids.entries()) {
      await waitFor(async () => (await c.readOutput({ process_id: id })).data === `out${i}\n`, { what: `${id}'s output` });
      await waitFor(() => {
        const rec = JSON.parse(fs.readFileSync(path.join(d.home, 'processes', id, 'record.json'), 'utf8')) as { record: { exit_code: number } };
        return rec.record.exit_code === 7;
      }, { what: `${id}'s record on disk`, timeoutMs: 20_000 });
    }
    const r = await c.spawnProcess({ cmd: ['sh', '-c', 'exit 4'] });
    assert.equal((await c.waitProcess({ process_id: r.process_id })).exit_code, 4);
  });
});

test('connections beyond the descriptor budget get RESOURCE_EXHAUSTED and are closed; files and spawns keep working', async () => {
  await withDaemon({ ulimit: '-n 64' }, async (d, c) => {
    const go = path.join(d.dir, 'go');
    const ids = await spawnWaiters(c, go, 2);
    const conns = openMany(d.socket, 100);
    try {
      // The first ones over budget are told why; once the refused ones briefly hold every
      // descriptor, the kernel-level accept drops the rest (libuv), which costs nothing either.
      await waitFor(() => conns.some((k) => k.got.includes('RESOURCE_EXHAUSTED')), { what: 'a refused client to be told why' });
      await waitFor(() => conns.filter((k) => k.closed).length >= 40, { what: 'connections over budget to be closed' });
      for (const k of conns) if (k.got !== '') assert.match(k.got, /^\{"success":false,"error":"[^"]+","code":"RESOURCE_EXHAUSTED"\}\n$/);
      // The client library reports it as that code, not as a lost connection (once the refused
      // ones above have given their descriptors back, so this one is accepted and told).
      await waitFor(() => fdCount(d.proc.pid!) < 56, { what: 'refused connections to be closed' });
      const extra = await connect({ socketPath: d.socket });
      assert.equal((await settle(extra.ping()) as { code: string }).code, 'RESOURCE_EXHAUSTED');
      extra.close();
      fs.writeFileSync(go, '');
      for (const [i, id] of ids.entries()) {
        assert.equal((await c.waitProcess({ process_id: id, timeout_s: 20 })).exit_code, 7);
        assert.equal((await c.readOutput({ process_id: id })).data, `out${i}\n`);
      }
      const r = await c.spawnProcess({ cmd: ['sh', '-c', 'exit 5'] });
      assert.equal((await c.waitProcess({ process_id: r.process_id })).exit_code, 5);
      // The ones within budget are served.
      const open = conns.find((k) => !k.closed)!;
      open.s.write('{"command":"ping"}\n');
      await waitFor(() => open.got.includes('"pong":true'), { what: 'a connection within budget to be served' });
    } finally {
      for (const k of conns) k.s.destroy();
    }
  });
});
