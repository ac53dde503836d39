/**
 * `idempotency_key` (issue 13): a second spawn with a key that a record not yet removed holds
 * returns that record (`deduplicated: true`) and starts nothing; sequentially, pipelined on one
 * connection, from many connections at once, for claude runs too, and after a daemon SIGKILL.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { connect, type DaemonClient } from '../../src/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { RawConn } from '../helpers/raw.js';

// The suite may itself run inside a tracked process: its spawns must not carry that parent.
delete process.env['CLAUDE_DAEMON_PROCESS_ID'];

let d: TestDaemon;
let c: DaemonClient;
before(async () => {
  d = await startTestDaemon();
  c = await d.client();
});
after(async () => {
  await d?.stop({ killProcesses: true });
});

/** Records that hold `key`. */
async function holders(key: string): Promise<string[]> {
  return (await c.listProcesses()).processes.filter((p) => p.idempotency_key === key).map((p) => p.process_id);
}

test('idempotency: a second spawn with the key returns the first record, deduplicated, and starts nothing; ended records still hold it, removal frees it', async () => {
  const first = await c.spawnProcess({ cmd: ['sleep', '30'], idempotency_key: 'seq' });
  assert.equal(first.deduplicated, undefined);
  assert.equal(first.idempotency_key, 'seq');
  const second = await c.spawnProcess({ cmd: ['sh', '-c', 'exit 3'], process_id: 'other-id', idempotency_key: 'seq' });
  assert.equal(second.deduplicated, true);
  assert.equal(second.process_id, first.process_id);
  assert.equal(second.pid, first.pid);
  assert.deepEqual(second.cmd, ['sleep', '30'], 'the first spawn\'s record, not the second\'s parameters');
  assert.equal((await c.listProcesses()).processes.some((p) => p.process_id === 'other-id'), false, 'nothing started for the duplicate');
  await c.killProcess({ process_id: first.process_id });
  const afterEnd = await c.spawnProcess({ cmd: ['true'], idempotency_key: 'seq' });
  assert.equal(afterEnd.deduplicated, true, 'an ended record not yet removed still holds its key');
  assert.equal(afterEnd.status, 'killed');
  await c.removeProcess(first.process_id);
  const fresh = await c.spawnProcess({ cmd: ['true'], idempotency_key: 'seq' });
  assert.equal(fresh.deduplicated, undefined, 'removal frees the key');
  assert.notEqual(fresh.process_id, first.process_id);
  assert.deepEqual(await holders('seq'), [fresh.process_id]);
});

test('idempotency: 50 duplicates pipelined on one connection make exactly one record', async () => {
  const conn = await RawConn.open(d.socket);
  try {
    const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify(i % 2 === 0 ? { command: 'spawn_process', id: i, cmd: ['sleep', '30'], idempotency_key: 'piped' } : { command: 'spawn_claude', id: i, prompt: 'hi', idempotency_key: 'piped' }) + '\n');
    conn.send(lines.join(''));
    const replies = await conn.waitReplies(50, 30_000);
    assert.ok(replies.every((r) => r.success), JSON.stringify(replies.find((r) => !r.success)));
    const ids = new Set(replies.map((r) => (r.result as { process_id: string }).process_id));
    assert.equal(ids.size, 1, `one process for all 50: ${[...ids].join(', ')}`);
    assert.equal(replies.filter((r) => (r.result as { deduplicated?: boolean }).deduplicated !== true).length, 1, 'exactly one reply is the original');
    assert.deepEqual(await holders('piped'), [...ids]);
  } finally {
    conn.close();
  }
});

test('idempotency: duplicates from 20 connections at once make exactly one record', async () => {
  const clients = await Promise.all(Array.from({ length: 20 }, () => connect({ socketPath: d.socket })));
  try {
    const rs = await Promise.all(clients.map((k, i) => k.spawnProcess({ cmd: ['sleep', '30'], name: `conn ${i}`, idempotency_key: 'many' })));
    assert.equal(new Set(rs.map((r) => r.process_id)).size, 1);
    assert.equal(rs.filter((r) => r.deduplicated !== true).length, 1);
    assert.equal((await holders('many')).length, 1);
    // spawn_process and spawn_claude share one namespace of keys.
    const viaClaude = await clients[0]!.spawnClaude({ prompt: 'hi', idempotency_key: 'many' });
    assert.equal(viaClaude.deduplicated, true);
    assert.equal(viaClaude.process_id, rs[0]!.process_id);
  } finally {
    for (const k of clients) k.close();
  }
});

test('idempotency: spawn_claude duplicates, sequential and concurrent, make one run; a duplicate of a resume run is not SESSION_BUSY', async () => {
  const bin = path.join(d.dir, 'claude');
  fs.writeFileSync(bin, '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 });
  const env = { CLAUDE_BIN: bin };
  const session = '4b0c2f3e-1d2a-4c5b-8e6f-7a8b9c0d1e2f';
  const rs = await Promise.all(Array.from({ length: 10 }, () => c.spawnClaude({ prompt: 'hi', env, resume: session, idempotency_key: 'claude-k' })));
  assert.equal(new Set(rs.map((r) => r.process_id)).size, 1);
  assert.equal(rs.filter((r) => r.deduplicated !== true).length, 1);
  const again = await c.spawnClaude({ prompt: 'other', env, resume: session, idempotency_key: 'claude-k' });
  assert.equal(again.deduplicated, true);
  assert.ok(again.claude, 'the claude run\'s record');
  await c.killProcess({ process_id: again.process_id, signal: 'SIGKILL' });
});

test('idempotency: the key index survives a daemon SIGKILL and restart (running and ended records)', async () => {
  const running = await c.spawnProcess({ cmd: ['sleep', '30'], idempotency_key: 'crash-running' });
  const ended = await c.spawnProcess({ cmd: ['true'], idempotency_key: 'crash-ended' });
  await c.waitProcess({ process_id: ended.process_id, timeout_s: 20 });
  await d.kill('SIGKILL');
  await d.restart();
  c = await d.client();
  const r1 = await c.spawnProcess({ cmd: ['sleep', '30'], idempotency_key: 'crash-running' });
  assert.equal(r1.deduplicated, true);
  assert.equal(r1.process_id, running.process_id);
  assert.equal(r1.status, 'running', 're-adopted');
  const r2 = await c.spawnProcess({ cmd: ['true'], idempotency_key: 'crash-ended' });
  assert.equal(r2.deduplicated, true);
  assert.equal(r2.process_id, ended.process_id);
  assert.equal((await holders('crash-running')).length, 1);
  assert.equal((await holders('crash-ended')).length, 1);
});
