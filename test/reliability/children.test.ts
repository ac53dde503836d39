/**
 * Children that misbehave: a fork bomb (stopped by the per-process pids limit, here 24 instead of
 * the default 4096 so the test is light), a child that closes its stdout early, a child that writes
 * binary garbage. The daemon keeps serving through all of it and records each faithfully.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { DaemonClient } from '../../src/index.js';
import { FIXTURES, pingOnce, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { listProcs } from '../helpers/proc.js';
import { waitFor } from '../helpers/wait.js';

const MAX_PIDS = 24;

let d: TestDaemon;
let c: DaemonClient;
before(async () => {
  d = await startTestDaemon({ args: ['--max-pids', String(MAX_PIDS)] });
  c = await d.client();
});
after(async () => {
  await d.stop();
});

/** Processes whose process group is `pgid` (the bomb never leaves its group). */
function groupMembers(pgid: number): number[] {
  return listProcs()
    .filter((p) => p.pgrp === pgid && p.state !== 'Z')
    .map((p) => p.pid);
}

/** The pids cgroup directory a process is in (cgroup v1 or v2), from /proc/PID/cgroup and mountinfo. */
function pidsCgroupOf(pid: number): string | undefined {
  const own = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').map((l) => l.split(':'));
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  const v1 = own.find(([, ctl]) => (ctl ?? '').split(',').includes('pids'));
  for (const line of mounts) {
    const [pre, post] = line.split(' - ');
    const [fstype, , options] = (post ?? '').split(' ');
    const point = pre?.split(' ')[4];
    if (point === undefined) continue;
    if (v1 && fstype === 'cgroup' && options?.split(',').includes('pids')) return path.join(point, v1[2]!);
    if (!v1 && fstype === 'cgroup2') return path.join(point, own.find(([, ctl]) => ctl === '')?.[2] ?? '/');
  }
  return undefined;
}

test('ping reports the pids limit and how it is enforced', async () => {
  const p = await c.ping();
  assert.equal(p.pids_limit?.max, MAX_PIDS);
  assert.ok(['cgroup-v1', 'cgroup-v2', 'rlimit', 'none'].includes(p.pids_limit?.mechanism ?? ''), JSON.stringify(p.pids_limit));
  // This project's CI and dev machines run as root with a writable pids cgroup: say so if that changed.
  if (process.getuid?.() === 0 && fs.existsSync('/sys/fs/cgroup/pids/cgroup.procs')) assert.equal(p.pids_limit?.mechanism, 'cgroup-v1');
});

test('a fork bomb stops at the per-process pids limit, is killed whole, and its cgroup is removed', async (t) => {
  const { pids_limit: limit } = await c.ping();
  if (limit?.mechanism === 'none') {
    t.skip('no pids limit mechanism on this machine (root without a writable pids cgroup): not running a fork bomb');
    return;
  }
  const r = await c.spawnProcess({ cmd: [path.join(FIXTURES, 'fork-bomb.sh')], process_id: 'bomb' });
  const pgid = r.pid!;
  let cgroup: string | undefined;
  try {
    if (limit?.mechanism.startsWith('cgroup')) {
      cgroup = pidsCgroupOf(pgid);
      assert.ok(cgroup !== undefined && path.basename(cgroup).startsWith('bomb.'), `the bomb runs in its own cgroup, not ${cgroup}`);
      assert.equal(fs.readFileSync(path.join(cgroup, 'pids.max'), 'utf8').trim(), String(MAX_PIDS));
    }
    // The limit bites: forks fail (the shells report it), and the tree never exceeds the limit.
    await waitFor(async () => /fork/i.test((await c.readOutput({ process_id: 'bomb', stream: 'stderr' })).data), { what: 'forks to fail', timeoutMs: 30_000 });
    let peak = 0;
    for (let i = 0; i < 20; i++) peak = Math.max(peak, groupMembers(pgid).length);
    assert.ok(peak <= MAX_PIDS, `the bomb's group reached ${peak} processes, over the limit ${MAX_PIDS}`);
    if (cgroup !== undefined) {
      const current = Number(fs.readFileSync(path.join(cgroup, 'pids.current'), 'utf8'));
      assert.ok(current <= MAX_PIDS, `pids.current ${current}`);
    }
    // The daemon is unharmed and can still start other children.
    assert.ok(await pingOnce(d.socket));
    const other = await c.spawnProcess({ cmd: ['true'] });
    assert.equal((await c.waitProcess({ process_id: other.process_id, timeout_s: 30 })).exit_code, 0);
  } finally {
    const k = await c.killProcess({ process_id: 'bomb', signal: 'SIGKILL' });
    assert.equal(k.status, 'killed');
    await waitFor(() => groupMembers(pgid).length === 0, { what: 'every bomb process to die', timeoutMs: 30_000 });
  }
  await c.removeProcess('bomb');
  if (cgroup !== undefined) assert.equal(fs.existsSync(cgroup), false, `${cgroup} was left behind`);
});

test('a child that closes its stdout early: what it wrote stays, it runs on, its exit is recorded', async () => {
  const script = 'printf "before\\n"; exec 1>&-; echo closed >&2; echo lost 2>/dev/null; sleep 0.2; echo still-running >&2; exit 3';
  const r = await c.spawnProcess({ cmd: ['/bin/sh', '-c', script] });
  const w = await c.waitProcess({ process_id: r.process_id, timeout_s: 30 });
  assert.equal(w.status, 'exited');
  assert.equal(w.exit_code, 3);
  assert.deepEqual(await c.readOutput({ process_id: r.process_id }), { data: 'before\n', encoding: 'utf8', offset: 0, next_offset: 7, eof: true });
  assert.equal((await c.readOutput({ process_id: r.process_id, stream: 'stderr' })).data, 'closed\nstill-running\n');
  // Closing every standard descriptor does not hide it from kill either.
  const r2 = await c.spawnProcess({ cmd: ['/bin/sh', '-c', 'exec 0<&- 1>&- 2>&-; exec sleep 600'] });
  const k = await c.killProcess({ process_id: r2.process_id });
  assert.equal(k.status, 'killed');
  assert.equal(k.signal, 'SIGTERM');
});

test('binary garbage: base64 gives the bytes back exactly, utf8 replaces what is not UTF-8', async () => {
  // Every byte value, invalid and overlong sequences, encoded surrogates, a lone lead byte at the end.
  const nasty = Buffer.from([0x00, 0xff, 0xfe, 0xc0, 0x80, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80, 0xe2, 0x82, 0x0a, 0x0d, 0x1b]);
  const body = Buffer.alloc(200_000);
  for (let i = 0; i < body.length; i++) body[i] = (i * 131 + (i >> 9)) & 0xff;
  const expected = Buffer.concat([nasty, Buffer.from('é€😀'), body, Buffer.from([0xf0, 0x9f])]);
  const file = path.join(d.dir, 'garbage.bin');
  fs.writeFileSync(file, expected);
  const r = await c.spawnProcess({ cmd: ['cat', file] });
  const w = await c.waitProcess({ process_id: r.process_id, timeout_s: 30 });
  assert.equal(w.exit_code, 0);
  assert.equal(w.stdout_bytes, expected.length);
  // base64 in odd-sized pieces: byte-exact, and offsets move by exactly the bytes returned.
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const o = await c.readOutput({ process_id: r.process_id, offset, max_bytes: 12_345, encoding: 'base64' });
    const b = Buffer.from(o.data, 'base64');
    assert.equal(o.next_offset, offset + b.length);
    parts.push(b);
    offset = o.next_offset;
    if (o.eof) break;
  }
  assert.ok(Buffer.concat(parts).equals(expected), 'base64 reads reassemble the exact bytes');
  // utf8 in one piece: what Node's decoder makes of the same bytes (U+FFFD for each invalid byte).
  const whole = await c.readOutput({ process_id: r.process_id, max_bytes: 1 << 20 });
  assert.equal(whole.data, expected.toString('utf8'));
  assert.ok(whole.data.includes('\uFFFD') && whole.data.includes('é€😀'));
  assert.ok(await pingOnce(d.socket));
});
