/**
 * Hostile or broken state files: every record is validated on load with the protocol's schemas and
 * one that fails is moved to `corrupt/` with a log line; state files are opened without following
 * symlinks or blocking, must be regular files and are read with a size cap; the state directory is
 * resolved once and checked on the real directory; someone else's process directory is refused.
 * Tests that need another user's files chown to uid 65534 (nobody), which needs root.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { DaemonError } from '../../src/index.js';
import { ROOT, runCli, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { fx, waitOutput } from '../processes/util.js';

/** record.json as the tests edit it. */
type Stored = Record<string, unknown> & { record: Record<string, unknown> };

const NOBODY = 65534;
const needsRoot: { skip?: string } = process.getuid?.() === 0 ? {} : { skip: 'needs root to chown files to another user' };

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const f of cleanups.reverse()) await f();
});

async function daemon(args: string[] = []): Promise<TestDaemon> {
  const d = await startTestDaemon({ args });
  cleanups.push(async () => {
    await d.stop({ killProcesses: true }); // ends what it still runs: a failed test leaves none behind
    fs.rmSync(d.dir, { recursive: true, force: true });
  });
  return d;
}

/** A valid record of an ended process, as the daemon writes it, under a new id. */
function recordLike(d: TestDaemon, from: string, id: string, edit: (s: Stored) => void): void {
  const s = JSON.parse(fs.readFileSync(path.join(d.home, 'processes', from, 'record.json'), 'utf8')) as Stored;
  s.record.process_id = id;
  edit(s);
  fs.mkdirSync(path.join(d.home, 'processes', id), { mode: 0o700 });
  fs.writeFileSync(path.join(d.home, 'processes', id, 'record.json'), JSON.stringify(s));
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

test('records with wrong-typed fields or a bogus status are moved to corrupt/ and logged; start never fails because of one', async () => {
  const d = await daemon();
  let c = await d.client();
  await c.spawnProcess({ cmd: ['true'], process_id: 'good' });
  await c.waitProcess({ process_id: 'good', timeout_s: 20 });
  await d.stop();
  const marker = path.join(d.dir, 'must-not-exist');
  const bad: Record<string, (s: Stored) => void> = {
    'cmd-null': (s) => (s.record.cmd = null),
    'cmd-number': (s) => (s.record.cmd = [5]),
    'cmd-string': (s) => Object.assign(s.record, { cmd: `touch ${marker}`, status: 'queued', pid: null }),
    'status-bogus': (s) => (s.record.status = 'bogus'),
    'env-number': (s) => Object.assign(s, { env: { A: 1 } }),
    'no-version': (s) => delete s.version,
    'not-json': () => undefined,
  };
  for (const [id, edit] of Object.entries(bad)) recordLike(d, 'good', id, edit);
  fs.writeFileSync(path.join(d.home, 'processes', 'not-json', 'record.json'), '{"version":1,"rec');
  await d.restart();
  c = await d.client();
  const ids = (await c.listProcesses()).processes.map((p) => p.process_id);
  assert.deepEqual(ids, ['good']);
  const corrupt = fs.readdirSync(path.join(d.home, 'corrupt'));
  for (const id of Object.keys(bad)) {
    assert.ok(corrupt.some((n) => n.startsWith(`${id}.`)), `${id} moved to corrupt/ (${corrupt.join(', ')})`);
    assert.equal(fs.existsSync(path.join(d.home, 'processes', id)), false);
    assert.match(d.log(), new RegExp(`processes/${id}/record\\.json`), `log names ${id}`);
  }
  assert.match(d.log(), /cmd-null\/record\.json.*record\.cmd/);
  assert.match(d.log(), /status-bogus\/record\.json.*record\.status/);
  assert.equal(fs.existsSync(marker), false, 'a string cmd is never spawned');
  // The ids are free again.
  await c.spawnProcess({ cmd: ['true'], process_id: 'cmd-null' });
});

test('record.json as a FIFO or a symlink to /dev/zero, or a huge one, does not hang or bloat start', async () => {
  const d = await daemon();
  let c = await d.client();
  await c.spawnProcess({ cmd: ['true'], process_id: 'good' });
  await c.waitProcess({ process_id: 'good', timeout_s: 20 });
  await d.stop();
  const p = (id: string): string => path.join(d.home, 'processes', id);
  fs.mkdirSync(p('fifo'));
  execFileSync('mkfifo', [path.join(p('fifo'), 'record.json')]);
  fs.mkdirSync(p('zero'));
  fs.symlinkSync('/dev/zero', path.join(p('zero'), 'record.json'));
  fs.mkdirSync(p('huge'));
  fs.writeFileSync(path.join(p('huge'), 'record.json'), `{"version":1,"pad":"${'x'.repeat(20 * 1024 * 1024)}"}`);
  fs.symlinkSync(p('good'), p('link'));
  await d.restart();
  c = await d.client();
  assert.deepEqual((await c.listProcesses()).processes.map((r) => r.process_id), ['good']);
  assert.ok(rssMb(d.proc.pid!) < 200, `RSS ${rssMb(d.proc.pid!)} MB`);
  assert.match(d.log(), /fifo\/record\.json.*not a regular file/);
  assert.match(d.log(), /zero\/record\.json.*symbolic link/);
  assert.match(d.log(), /huge\/record\.json.*larger than/);
  assert.match(d.log(), /processes\/link.*symbolic link/);
  assert.ok(fs.existsSync(path.join(d.home, 'processes', 'good', 'record.json')), 'the link target is untouched');
});

test('`processes` as a regular file or a symlink: start fails with a clear message and no stack', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cd-state-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const home = path.join(dir, 'home');
  fs.mkdirSync(home, { mode: 0o700 });
  fs.writeFileSync(path.join(home, 'processes'), 'not a directory');
  const r = await runCli(['start', '--socket', path.join(dir, 's.sock'), '--home', home, '--modules-dir', path.join(dir, 'm')], { timeoutMs: 20_000 });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /processes.* is not a directory/);
  assert.doesNotMatch(r.stderr, /EEXIST|\n\s+at /);
  assert.equal(fs.readFileSync(path.join(home, 'processes'), 'utf8'), 'not a directory');
  // A symlink to a directory is refused the same way (never followed).
  fs.rmSync(path.join(home, 'processes'));
  fs.mkdirSync(path.join(dir, 'elsewhere'));
  fs.symlinkSync(path.join(dir, 'elsewhere'), path.join(home, 'processes'));
  const r2 = await runCli(['start', '--socket', path.join(dir, 's.sock'), '--home', home, '--modules-dir', path.join(dir, 'm')], { timeoutMs: 20_000 });
  assert.equal(r2.code, 1, r2.stderr);
  assert.match(r2.stderr, /processes is a symbolic link/);
  assert.deepEqual(fs.readdirSync(path.join(dir, 'elsewhere')), []);
});

test('--home through a symlink is resolved once (swapping the link later redirects nothing); through another user\'s symlink it is refused', needsRoot, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cd-state-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const shared = path.join(dir, 'shared');
  fs.mkdirSync(shared);
  fs.chmodSync(shared, 0o1777); // like /tmp
  const real = path.join(dir, 'real');
  const evil = path.join(dir, 'evil');
  fs.mkdirSync(real, { mode: 0o700 });
  fs.mkdirSync(evil, { mode: 0o777 });
  fs.chownSync(evil, NOBODY, NOBODY);
  const link = path.join(shared, 'home');
  fs.symlinkSync(real, link);
  // Another user's link decides where our state goes: refused, and nothing is created behind it.
  fs.lchownSync(link, NOBODY, NOBODY);
  const refused = await runCli(['start', '--socket', path.join(dir, 'r.sock'), '--home', link, '--modules-dir', path.join(dir, 'm')], { timeoutMs: 20_000 });
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, new RegExp(`symbolic link ${link}, which belongs to uid ${NOBODY}`));
  assert.deepEqual(fs.readdirSync(real), []);
  // Our own link is followed once, at start.
  fs.lchownSync(link, 0, 0);
  const d = await startTestDaemon({ dir, args: ['--home', link] });
  cleanups.push(() => d.stop({ killProcesses: true }));
  const c = await d.client();
  assert.equal((await c.ping()).home, real);
  await c.spawnProcess({ cmd: [fx('sleeper.sh')], process_id: 'before', env: { API_KEY: 'secret' } });
  await waitOutput(c, 'before');
  // The link now points at another user's directory.
  fs.unlinkSync(link);
  fs.symlinkSync(evil, link);
  await c.spawnProcess({ cmd: ['sh', '-c', 'echo after'], process_id: 'after', env: { API_KEY: 'secret' } });
  await c.waitProcess({ process_id: 'after', timeout_s: 20 });
  assert.equal((await c.readOutput({ process_id: 'after' })).data, 'after\n');
  assert.equal((await c.readOutput({ process_id: 'before' })).data, 'ready\n');
  await c.killProcess({ process_id: 'before' });
  assert.deepEqual(fs.readdirSync(evil), [], 'nothing was written through the swapped link');
  assert.ok(fs.existsSync(path.join(real, 'processes', 'after', 'record.json')));
});

test('a state directory under a directory another user may write is refused', needsRoot, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cd-state-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const theirs = path.join(dir, 'theirs');
  fs.mkdirSync(theirs, { mode: 0o755 });
  fs.chownSync(theirs, NOBODY, NOBODY);
  const home = path.join(theirs, 'home');
  fs.mkdirSync(home, { mode: 0o700 });
  const r = await runCli(['start', '--socket', path.join(dir, 's.sock'), '--home', home, '--modules-dir', path.join(dir, 'm')], { timeoutMs: 20_000 });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`${theirs}.*uid ${NOBODY}`));
  assert.deepEqual(fs.readdirSync(home), []);
});

test('a process directory owned by someone else is refused: never adopted at start, never written by a spawn', needsRoot, async () => {
  const d = await daemon();
  let c = await d.client();
  await c.spawnProcess({ cmd: ['true'], process_id: 'good' });
  await c.waitProcess({ process_id: 'good', timeout_s: 20 });
  await d.stop();
  recordLike(d, 'good', 'foreign', () => undefined);
  const foreign = path.join(d.home, 'processes', 'foreign');
  fs.chownSync(foreign, NOBODY, NOBODY);
  await d.restart();
  c = await d.client();
  assert.deepEqual((await c.listProcesses()).processes.map((r) => r.process_id), ['good']);
  assert.match(d.log(), /processes\/foreign.*uid 65534/);
  // Planted while the daemon runs: the spawn that would use it fails and writes nothing into it.
  const planted = path.join(d.home, 'processes', 'planted');
  fs.mkdirSync(planted, { mode: 0o777 });
  fs.chownSync(planted, NOBODY, NOBODY);
  const err = await c.spawnProcess({ cmd: ['sh', '-c', 'echo secret'], process_id: 'planted' }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof DaemonError, String(err));
  assert.equal(err.code, 'PROCESS_EXISTS');
  assert.match(err.message, /uid 65534/);
  assert.equal((await c.listProcesses()).processes.some((r) => r.process_id === 'planted'), false);
  assert.deepEqual(fs.readdirSync(planted), []);
});

test('the wrapper never writes through a symlink in a process directory, and refuses a directory it does not own', async () => {
  const d = await daemon();
  const c = await d.client();
  const outside = path.join(d.dir, 'outside.txt');
  fs.writeFileSync(outside, 'precious\n');
  const dir = path.join(d.home, 'processes', 'linked');
  fs.mkdirSync(dir, { mode: 0o700 });
  fs.symlinkSync(outside, path.join(dir, 'stdout'));
  const err = await c.spawnProcess({ cmd: ['sh', '-c', 'echo overwritten'], process_id: 'linked' }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof DaemonError, String(err));
  assert.equal(err.code, 'SPAWN_FAILED');
  assert.match(err.message, /stdout/);
  assert.equal(fs.readFileSync(outside, 'utf8'), 'precious\n');
  // The wrapper's own check, without the daemon's in front of it.
  if (needsRoot.skip === undefined) {
    const theirs = path.join(d.dir, 'theirs');
    fs.mkdirSync(theirs, { mode: 0o777 });
    fs.chownSync(theirs, NOBODY, NOBODY);
    const r = spawnSync(path.join(ROOT, 'dist', 'claude-daemon-wrap'), [theirs, '', '0', '--', 'true'], { encoding: 'utf8' });
    assert.equal(r.status, 127);
    assert.match(r.stdout, /err 1 state-dir/);
    assert.deepEqual(fs.readdirSync(theirs), []);
  }
});
