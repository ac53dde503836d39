/**
 * The CLI on the event stream: `events` prints the journal and exits, `events --follow` keeps
 * printing live events, `wait --any` returns when the first of several processes ends (and `wait`
 * of one id is unchanged). Both CLIs: the TypeScript one and python/client.py.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BIN, ROOT, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';
import { fx } from '../processes/util.js';

let d: TestDaemon;
before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d.stop({ killProcesses: true });
});

/** Starts a CLI that keeps running; its stdout so far and a way to stop it. */
function follow(cmd: string, args: string[]): { out: () => string; stop: () => Promise<void> } {
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CLAUDE_DAEMON_SOCKET: d.socket } });
  let out = '';
  p.stdout.setEncoding('utf8');
  p.stdout.on('data', (s: string) => (out += s));
  return {
    out: () => out,
    stop: () => new Promise((r) => (p.exitCode !== null ? r() : (p.once('exit', () => r()), p.kill('SIGTERM')))),
  };
}

test('`events` prints the journal and exits; `events --follow --json` prints live events as the daemon sent them', async () => {
  const c = await d.client();
  await c.spawnProcess({ cmd: ['true'], process_id: 'cli-a' });
  await waitFor(async () => (await c.processInfo('cli-a')).status === 'exited');
  await waitFor(async () => (await d.cli(['events', '--process', 'cli-a'])).stdout.includes('ended'), { what: 'the end in the journal' });
  const r = await d.cli(['events', '--process', 'cli-a']);
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout.trim().split('\n');
  assert.deepEqual(rows.map((l) => l.trim().split(/\s+/)[2]), ['spawned', 'started', 'ended']);
  assert.match(rows[2]!, /cli-a\s+exited 0/);
  const only = await d.cli(['events', '--type', 'ended', '--json', '--process', 'cli-a']);
  const parsed = only.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(parsed.map((e) => [e['type'], e['process_id'], e['event']]), [['ended', 'cli-a', true]]);
  const bad = await d.cli(['events', '--type', 'bogus']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--type takes one of/);

  const watchers = (await c.ping()).events!.watchers;
  const f = follow(process.execPath, [BIN, 'events', '--follow', '--json', '--process', 'cli-b']);
  try {
    await waitFor(async () => (await c.ping()).events!.watchers > watchers, { what: 'events --follow to watch' });
    await c.spawnProcess({ cmd: [fx('sleeper.sh'), '0.2'], process_id: 'cli-b' });
    await waitFor(() => f.out().includes('"type":"ended"'), { what: 'events --follow to print the end', timeoutMs: 20_000 });
    const seen = f.out().trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type);
    assert.deepEqual(seen.slice(-3), ['spawned', 'started', 'ended']);
  } finally {
    await f.stop();
  }
});

test('`wait --any` returns when the first of several ends, with its exit code; --timeout gives 124; one id as before', async () => {
  const c = await d.client();
  const go1 = path.join(d.dir, 'any-go1');
  await c.spawnProcess({ cmd: [fx('wait-file.sh'), go1, '5'], process_id: 'any-1' });
  await c.spawnProcess({ cmd: [fx('sleeper.sh')], process_id: 'any-2' });
  const timedOut = await d.cli(['wait', '--any', 'any-1', 'any-2', '--timeout', '0.5']);
  assert.equal(timedOut.code, 124, timedOut.stderr);
  assert.match(timedOut.stdout, /none of any-1, any-2 ended/);
  const pending = d.cli(['wait', '--any', 'any-1', 'any-2']);
  // Ends only once the CLI watches: the end reaches it as an event, not from the record.
  const watchers = (await c.ping()).events!.watchers;
  await waitFor(async () => (await c.ping()).events!.watchers > watchers, { what: 'wait --any to watch' });
  fs.writeFileSync(go1, '');
  const r = await pending;
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stdout, /any-1 exited 5/);
  // Already ended: answered at once from the record.
  const again = await d.cli(['wait', '--any', 'any-2', 'any-1', '--json']);
  assert.equal(again.code, 5);
  assert.equal((JSON.parse(again.stdout) as { process_id: string }).process_id, 'any-1');
  // Without --any: one id, unchanged.
  const one = await d.cli(['wait', 'any-1']);
  assert.equal(one.code, 5);
  const two = await d.cli(['wait', 'any-1', 'any-2']);
  assert.equal(two.code, 2);
  await c.killProcess({ process_id: 'any-2' });
});

test('python/client.py: the events verb and the watch() generator', async () => {
  const c = await d.client();
  await c.spawnProcess({ cmd: ['sh', '-c', 'exit 2'], process_id: 'py-a' });
  await waitFor(async () => (await c.processInfo('py-a')).status === 'exited');
  const py = (args: string[]): Promise<{ code: number | null; out: string; err: string }> =>
    new Promise((resolve) => {
      const p = spawn('python3', args, { env: { ...process.env, CLAUDE_DAEMON_SOCKET: d.socket }, cwd: ROOT });
      let out = '';
      let err = '';
      p.stdout.on('data', (b: Buffer) => (out += b.toString()));
      p.stderr.on('data', (b: Buffer) => (err += b.toString()));
      p.on('exit', (code) => resolve({ code, out, err }));
    });
  await waitFor(async () => (await py([path.join(ROOT, 'python', 'client.py'), 'events', '--process', 'py-a'])).out.includes('ended'));
  const r = await py([path.join(ROOT, 'python', 'client.py'), 'events', '--process', 'py-a', '--type', 'ended', '--json']);
  assert.equal(r.code, 0, r.err);
  const ev = JSON.parse(r.out.trim()) as { type: string; data: { exit_code: number } };
  assert.equal(ev.type, 'ended');
  assert.equal(ev.data.exit_code, 2);
  const script = [
    'import sys; sys.path.insert(0, "python")',
    'import client',
    'for ev in client.watch(since_seq=0, process_ids=["py-a"]):',
    '    print(ev["type"])',
    '    if ev["type"] == "caught_up": break',
  ].join('\n');
  const g = await py(['-c', script]);
  assert.equal(g.code, 0, g.err);
  assert.deepEqual(g.out.trim().split('\n'), ['spawned', 'started', 'ended', 'caught_up']);
});
