/**
 * `idempotency_key` when the first spawn is refused after all (its stdin cannot be written: the state
 * directory is a full 1 MiB tmpfs): a duplicate pipelined behind it must not be answered with a
 * record that never existed; it waits for the first, then spawns in its place (and is refused too
 * while the disk is full). Needs root (mount); skipped, and says so, elsewhere.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { RawConn } from '../helpers/raw.js';
import { mountTmpfs, type Tmpfs } from '../helpers/tmpfs.js';

delete process.env['CLAUDE_DAEMON_PROCESS_ID'];

let tmp: string;
let disk: Tmpfs | undefined;
let d: TestDaemon | undefined;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cd-lineage-full-'));
  disk = mountTmpfs(path.join(tmp, 'home'), '1m');
  if (disk === undefined) return;
  d = await startTestDaemon({ dir: tmp });
});

after(async () => {
  try {
    await d?.stop({ killProcesses: true });
  } finally {
    disk?.unmount();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('idempotency: a duplicate of a spawn refused after all (disk full) is not answered with a record that never existed', async (t) => {
  if (d === undefined || disk === undefined) return t.skip('mounting a tmpfs is not allowed here (needs root)');
  const conn = await RawConn.open(d.socket);
  try {
    disk.fill();
    const line = (id: number): string => JSON.stringify({ command: 'spawn_process', id, cmd: ['cat'], stdin: 'x'.repeat(64 * 1024), idempotency_key: 'full' }) + '\n';
    conn.send(line(1) + line(2));
    const replies = await conn.waitReplies(2, 30_000);
    for (const r of replies) assert.equal(r.code, 'STORAGE_FULL', JSON.stringify(r));
    const list = await conn.request({ command: 'list_processes' });
    assert.deepEqual((list.result as { processes: unknown[] }).processes, [], 'nothing kept');
    disk.free();
    const ok = await conn.request({ command: 'spawn_process', cmd: ['true'], idempotency_key: 'full' });
    assert.equal(ok.success, true, JSON.stringify(ok));
    assert.equal((ok.result as { deduplicated?: boolean }).deduplicated, undefined, 'the key was never held');
  } finally {
    conn.close();
  }
});
