import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { DaemonError, type DaemonClient } from '../../src/index.js';
import { startTestDaemon, tempDir, type TestDaemon } from '../helpers/daemon.js';
import { RawConn } from '../helpers/raw.js';
import { waitFor } from '../helpers/wait.js';
import { fx, waitOutput } from './util.js';

let d: TestDaemon;
let c: DaemonClient;
before(async () => {
  d = await startTestDaemon();
  c = await d.client();
});
after(async () => {
  await d.stop();
});

async function rejects(p: Promise<unknown>, code: string): Promise<DaemonError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof DaemonError, `expected a DaemonError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

test('a command prints and exits with its code; the record says so', async () => {
  const r = await c.spawnProcess({ cmd: [fx('print-exit.sh'), '3', 'hello'], process_id: 'print3', name: 'printer' });
  assert.equal(r.process_id, 'print3');
  assert.equal(r.status, 'running');
  assert.equal(typeof r.pid, 'number');
  assert.equal(r.name, 'printer');
  const w = await c.waitProcess({ process_id: 'print3', timeout_s: 10 });
  assert.equal(w.status, 'exited');
  assert.equal(w.exit_code, 3);
  assert.equal(w.signal, null);
  assert.equal(w.timed_out, undefined);
  assert.equal(w.stdout_bytes, 'out:hello\n'.length);
  assert.equal(w.stderr_bytes, 'err:hello\n'.length);
  assert.ok(w.duration_ms !== null && w.duration_ms >= 0);
  assert.ok(w.ended_at !== null && w.started_at !== null);
  const out = await c.readOutput({ process_id: 'print3' });
  assert.deepEqual(out, { data: 'out:hello\n', encoding: 'utf8', offset: 0, next_offset: 10, eof: true });
  const err = await c.readOutput({ process_id: 'print3', stream: 'stderr' });
  assert.equal(err.data, 'err:hello\n');
  const info = await c.processInfo('print3');
  assert.equal(info.exit_code, 3);
});

test('generated ids are unique and valid; a known id gives PROCESS_EXISTS', async () => {
  const a = await c.spawnProcess({ cmd: ['true'] });
  const b = await c.spawnProcess({ cmd: ['true'] });
  assert.notEqual(a.process_id, b.process_id);
  assert.match(a.process_id, /^[A-Za-z0-9._-]{1,64}$/);
  await rejects(c.spawnProcess({ cmd: ['true'], process_id: a.process_id }), 'PROCESS_EXISTS');
});

test('stdin, env and cwd reach the child; without stdin it reads /dev/null', async () => {
  const dir = tempDir('cd-cwd-');
  await c.spawnProcess({ cmd: [fx('cat-stdin.sh')], process_id: 'stdin1', stdin: 'line one\nline two\n', env: { GREETING: 'héllo' }, cwd: dir });
  const w = await c.waitProcess({ process_id: 'stdin1', timeout_s: 10 });
  assert.equal(w.exit_code, 0);
  assert.equal(w.cwd, dir);
  assert.equal((await c.readOutput({ process_id: 'stdin1' })).data, 'line one\nline two\n');
  const err = (await c.readOutput({ process_id: 'stdin1', stream: 'stderr' })).data;
  assert.match(err, new RegExp(`cwd:${dir}\n`));
  assert.match(err, /greeting:héllo\n/);
  await c.spawnProcess({ cmd: [fx('cat-stdin.sh')], process_id: 'stdin2' });
  const w2 = await c.waitProcess({ process_id: 'stdin2', timeout_s: 10 });
  assert.equal(w2.exit_code, 0);
  assert.equal(w2.stdout_bytes, 0);
});

test('spawn failures reply SPAWN_FAILED with the OS reason and keep a failed record', async () => {
  await c.spawnProcess({ cmd: ['true'], process_id: 'f0' }); // An exited one, for the totals below.
  await c.waitProcess({ process_id: 'f0', timeout_s: 10 });
  const e1 = await rejects(c.spawnProcess({ cmd: ['no-such-command-xyz'], process_id: 'f1' }), 'SPAWN_FAILED');
  assert.match(e1.message, /ENOENT/);
  const e2 = await rejects(c.spawnProcess({ cmd: [fx('not-executable.sh')], process_id: 'f2' }), 'SPAWN_FAILED');
  assert.match(e2.message, /EACCES|Permission denied/);
  const e3 = await rejects(c.spawnProcess({ cmd: ['true'], process_id: 'f3', cwd: '/no/such/dir' }), 'SPAWN_FAILED');
  assert.match(e3.message, /cwd/);
  for (const id of ['f1', 'f2', 'f3']) {
    const r = await c.processInfo(id);
    assert.equal(r.status, 'failed');
    assert.ok(r.reason && r.reason.length > 0);
    assert.equal(r.pid, null);
  }
  const failed = await c.listProcesses({ status: 'failed' });
  assert.deepEqual(failed.processes.map((p) => p.process_id).sort(), ['f1', 'f2', 'f3']);
  assert.equal(failed.totals['failed'], 3);
  assert.ok((failed.totals['exited'] ?? 0) >= 1);
});

test('read_output: offsets, max_bytes, tail_lines, base64, and UTF-8 never split', async () => {
  // "é" is 2 bytes, "€" 3 bytes: a 4-byte read of "aé€" stops before the euro sign.
  await c.spawnProcess({ cmd: ['printf', 'a\u00e9\u20ac\nl2\nl3\n'], process_id: 'utf' });
  await c.waitProcess({ process_id: 'utf', timeout_s: 10 });
  const r1 = await c.readOutput({ process_id: 'utf', max_bytes: 4 });
  assert.equal(r1.data, 'aé');
  assert.equal(r1.next_offset, 3);
  assert.equal(r1.eof, false);
  const r2 = await c.readOutput({ process_id: 'utf', offset: 3, max_bytes: 4 });
  assert.equal(r2.data, '€\n');
  assert.equal(r2.next_offset, 7);
  const tail = await c.readOutput({ process_id: 'utf', tail_lines: 2 });
  assert.equal(tail.data, 'l2\nl3\n');
  assert.equal(tail.offset, 7);
  assert.equal(tail.eof, true);
  // base64 gives the exact bytes, split characters included.
  const b64 = await c.readOutput({ process_id: 'utf', encoding: 'base64', offset: 1, max_bytes: 4 });
  assert.equal(b64.encoding, 'base64');
  assert.deepEqual(Buffer.from(b64.data, 'base64'), Buffer.from('a\u00e9\u20ac\n').subarray(1, 5));
  assert.equal(b64.next_offset, 5);
  const beyond = await c.readOutput({ process_id: 'utf', offset: 1000 });
  assert.equal(beyond.data, '');
  assert.equal(beyond.eof, true);
  // Invalid bytes become U+FFFD.
  await c.spawnProcess({ cmd: ['printf', 'x\\377y'], process_id: 'bad-utf' });
  await c.waitProcess({ process_id: 'bad-utf', timeout_s: 10 });
  assert.equal((await c.readOutput({ process_id: 'bad-utf' })).data, 'x\ufffdy');
});

test('read_output works while the process runs; eof only after it ended', async () => {
  await c.spawnProcess({ cmd: [fx('sleeper.sh'), '0.3'], process_id: 'live' });
  await waitOutput(c, 'live');
  const r = await c.readOutput({ process_id: 'live' });
  assert.equal(r.data, 'ready\n');
  assert.equal(r.eof, false);
  await c.waitProcess({ process_id: 'live', timeout_s: 10 });
  const r2 = await c.readOutput({ process_id: 'live', offset: r.next_offset });
  assert.equal(r2.data, 'slept\n');
  assert.equal(r2.eof, true);
});

test('wait_process with a timeout returns the running record flagged timed_out', async () => {
  await c.spawnProcess({ cmd: [fx('sleeper.sh')], process_id: 'waiter' });
  const w = await c.waitProcess({ process_id: 'waiter', timeout_s: 0.1 });
  assert.equal(w.status, 'running');
  assert.equal(w.timed_out, true);
  await c.killProcess({ process_id: 'waiter', grace_s: 1 });
});

test('timeout_s ends a process as kill_process does, and says why', async () => {
  const t0 = Date.now();
  await c.spawnProcess({ cmd: [fx('sleeper.sh')], process_id: 'timed', timeout_s: 0.3 });
  const w = await c.waitProcess({ process_id: 'timed', timeout_s: 10 });
  assert.equal(w.status, 'killed');
  assert.equal(w.signal, 'SIGTERM');
  assert.match(w.reason ?? '', /timeout_s/);
  assert.ok(Date.now() - t0 >= 250);
});

test('remove_process: refused while running, then forgets the process and deletes its files', async () => {
  await c.spawnProcess({ cmd: [fx('sleeper.sh')], process_id: 'rm1' });
  await rejects(c.removeProcess('rm1'), 'PROCESS_RUNNING');
  await c.killProcess({ process_id: 'rm1' });
  const dir = path.join(d.home, 'processes', 'rm1');
  assert.ok(fs.existsSync(path.join(dir, 'stdout')));
  assert.deepEqual(await c.removeProcess('rm1'), { removed: true, process_id: 'rm1' });
  assert.equal(fs.existsSync(dir), false);
  await rejects(c.processInfo('rm1'), 'PROCESS_NOT_FOUND');
  await rejects(c.removeProcess('rm1'), 'PROCESS_NOT_FOUND');
});

test('unknown ids give PROCESS_NOT_FOUND for every command', async () => {
  await rejects(c.processInfo('nope'), 'PROCESS_NOT_FOUND');
  await rejects(c.readOutput({ process_id: 'nope' }), 'PROCESS_NOT_FOUND');
  await rejects(c.killProcess({ process_id: 'nope' }), 'PROCESS_NOT_FOUND');
  await rejects(c.waitProcess({ process_id: 'nope' }), 'PROCESS_NOT_FOUND');
  await rejects(c.removeProcess('nope'), 'PROCESS_NOT_FOUND');
});

test('every bad parameter gives INVALID_PARAMS naming the field', async () => {
  const raw = await RawConn.open(d.socket);
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ command: 'spawn_process' }, 'cmd'],
    [{ command: 'spawn_process', cmd: [] }, 'cmd'],
    [{ command: 'spawn_process', cmd: 'ls' }, 'cmd'],
    [{ command: 'spawn_process', cmd: [1] }, 'cmd.0'],
    [{ command: 'spawn_process', cmd: ['true'], process_id: '' }, 'process_id'],
    [{ command: 'spawn_process', cmd: ['true'], process_id: 'a/b' }, 'process_id'],
    [{ command: 'spawn_process', cmd: ['true'], process_id: '..' }, 'process_id'],
    [{ command: 'spawn_process', cmd: ['true'], process_id: 'x'.repeat(65) }, 'process_id'],
    [{ command: 'spawn_process', cmd: ['true'], cwd: '' }, 'cwd'],
    [{ command: 'spawn_process', cmd: ['true'], env: { A: 1 } }, 'env.A'],
    [{ command: 'spawn_process', cmd: ['true'], stdin: 5 }, 'stdin'],
    [{ command: 'spawn_process', cmd: ['true'], timeout_s: 0 }, 'timeout_s'],
    [{ command: 'spawn_process', cmd: ['true'], timeout_s: 'soon' }, 'timeout_s'],
    [{ command: 'spawn_process', cmd: ['true'], name: 7 }, 'name'],
    [{ command: 'list_processes', status: 'zombie' }, 'status'],
    [{ command: 'process_info' }, 'process_id'],
    [{ command: 'read_output', process_id: 'x', stream: 'stdin' }, 'stream'],
    [{ command: 'read_output', process_id: 'x', offset: -1 }, 'offset'],
    [{ command: 'read_output', process_id: 'x', offset: 1.5 }, 'offset'],
    [{ command: 'read_output', process_id: 'x', max_bytes: 0 }, 'max_bytes'],
    [{ command: 'read_output', process_id: 'x', tail_lines: -2 }, 'tail_lines'],
    [{ command: 'read_output', process_id: 'x', offset: 0, tail_lines: 2 }, 'tail_lines'],
    [{ command: 'read_output', process_id: 'x', encoding: 'latin1' }, 'encoding'],
    [{ command: 'kill_process', process_id: 'x', signal: 'SIGNOPE' }, 'signal'],
    [{ command: 'kill_process', process_id: 'x', signal: 9 }, 'signal'],
    [{ command: 'kill_process', process_id: 'x', grace_s: -1 }, 'grace_s'],
    [{ command: 'wait_process', process_id: 'x', timeout_s: -1 }, 'timeout_s'],
    [{ command: 'remove_process', process_id: 3 }, 'process_id'],
  ];
  for (const [req, field] of cases) {
    const r = await raw.request(req);
    assert.equal(r.code, 'INVALID_PARAMS', `${JSON.stringify(req)} -> ${JSON.stringify(r)}`);
    assert.ok(r.error?.includes(`\`${field}\``), `${JSON.stringify(req)}: message should name ${field}: ${r.error}`);
  }
  raw.close();
});

test('signal names are accepted with or without SIG, in any case', async () => {
  for (const [i, sig] of ['TERM', 'sigterm', 'SIGTERM'].entries()) {
    await c.spawnProcess({ cmd: [fx('sleeper.sh')], process_id: `sig${i}` });
    const r = await c.killProcess({ process_id: `sig${i}`, signal: sig });
    assert.equal(r.signal, 'SIGTERM');
  }
});

test('list_processes counts every status and filters by one', async () => {
  const all = await c.listProcesses();
  const sum = Object.values(all.totals).reduce((a, b) => a + b, 0);
  assert.equal(sum, all.processes.length);
  for (const status of ['running', 'exited', 'killed', 'failed'] as const) {
    const some = await c.listProcesses({ status });
    assert.ok(some.processes.every((p) => p.status === status));
    assert.equal(some.processes.length, all.totals[status]);
  }
  await waitFor(async () => (await c.listProcesses({ status: 'running' })).processes.length === 0, { what: 'nothing running' });
});
