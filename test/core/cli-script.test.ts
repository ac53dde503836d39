/**
 * The CLI as a script sees it: `--json` errors as one JSON line, one exit code (124) for every wait
 * that timed out, global options before the verb, signal numbers and names, what `wait` says about
 * a process killed while queued, messages that name CLI verbs (not wire commands), and `ping`'s
 * `max_running`. One daemon with `--max-running 2`, so the queue is reachable.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type CliResult, FIXTURES, runCli, startTestDaemon, tempDir, type TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

const SLEEPER = path.join(FIXTURES, 'sleeper.sh');
const FAKE_CLAUDE = path.join(FIXTURES, 'fake-claude', 'claude');

let d: TestDaemon;
before(async () => {
  d = await startTestDaemon({ args: ['--max-running', '2'], env: { CLAUDE_BIN: FAKE_CLAUDE } });
});
after(async () => {
  await d.stop();
});

/** The CLI with the global options first, as `claude-daemon --socket S VERB ...`. */
const cli = (args: string[]): Promise<CliResult> => runCli(['--socket', d.socket, ...args]);

/** Parses stdout as exactly one JSON line. */
function oneJsonLine(r: CliResult): Record<string, unknown> {
  assert.equal(r.stdout.endsWith('\n'), true, r.stdout);
  assert.equal(r.stdout.trimEnd().split('\n').length, 1, `one line: ${r.stdout}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

test('global options before the verb: --socket and --json work there as after it', async () => {
  const before1 = await runCli(['--socket', d.socket, '--json', 'ping']);
  assert.equal(before1.code, 0, before1.stderr);
  assert.equal(oneJsonLine(before1)['pid'], d.proc.pid);
  const eq = await runCli([`--socket=${d.socket}`, 'ping']);
  assert.equal(eq.code, 0, eq.stderr);
  assert.match(eq.stdout, /^pong: /);
  const mixed = await runCli(['--json', 'ping', '--socket', d.socket]);
  assert.equal(mixed.code, 0, mixed.stderr);
  assert.equal(oneJsonLine(mixed)['pong'], true);
  // The reason it matters: after `--` nothing is an option, so spawn needs its socket in front.
  const s = await runCli(['--socket', d.socket, 'spawn', '--id', 'g1', '--', 'true']);
  assert.equal(s.code, 0, s.stderr);
  assert.equal((await cli(['wait', 'g1'])).code, 0);
  const help = await runCli(['--socket', d.socket, 'ping', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^usage: claude-daemon ping/);
  const bad = await runCli(['--socket']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--socket/);
});

test('--json: an error is one JSON line on stdout, with the exit code it has without --json', async () => {
  const daemonErr = await cli(['--json', 'info', 'no-such-id']);
  assert.equal(daemonErr.code, 1);
  assert.equal(daemonErr.stderr, '');
  const e1 = oneJsonLine(daemonErr);
  assert.equal(e1['success'], false);
  assert.equal(e1['code'], 'PROCESS_NOT_FOUND');
  assert.match(String(e1['error']), /no-such-id/);

  const usage = await cli(['info', '--json']);
  assert.equal(usage.code, 2);
  const e2 = oneJsonLine(usage);
  assert.deepEqual([e2['success'], e2['code']], [false, 'USAGE_ERROR']);
  assert.match(String(e2['error']), /give a process id/);
  const badFlag = await cli(['ping', '--json', '--bogus']);
  assert.equal(badFlag.code, 2);
  assert.equal(oneJsonLine(badFlag)['code'], 'USAGE_ERROR');
  const unknownVerb = await runCli(['--json', 'frobnicate']);
  assert.equal(unknownVerb.code, 2);
  assert.equal(oneJsonLine(unknownVerb)['code'], 'USAGE_ERROR');

  const socket = path.join(tempDir('cd-cli-json-'), 'nobody.sock');
  const none = await runCli(['ping', '--json', '--socket', socket]);
  assert.equal(none.code, 3);
  const e3 = oneJsonLine(none);
  assert.deepEqual([e3['success'], e3['code']], [false, 'NO_DAEMON']);
  assert.match(String(e3['error']), /claude-daemon start/);
  fs.rmSync(path.dirname(socket), { recursive: true, force: true });
});

test('kill --signal takes numbers and names with or without SIG; a bad one is a usage error', async () => {
  for (const [sig, code] of [['9', 137], ['KILL', 137], ['sigint', 130], ['SIGTERM', 143], ['15', 143]] as const) {
    const id = `sig-${sig}`;
    assert.equal((await cli(['spawn', '--id', id, '--', SLEEPER])).code, 0);
    await waitFor(async () => JSON.parse((await cli(['info', id, '--json'])).stdout).status === 'running', { what: `${id} running` });
    const k = await cli(['kill', id, '--signal', sig]);
    assert.equal(k.code, 0, `${sig}: ${k.stderr}`);
    assert.equal((await cli(['wait', id])).code, code, sig);
  }
  for (const bad of ['0', '99', 'NOPE', '3.5', '9x']) {
    const r = await cli(['kill', 'sig-9', '--signal', bad]);
    assert.equal(r.code, 2, `${bad}: ${r.stderr}`);
    assert.match(r.stderr, /--signal takes a signal name or number/);
  }
});

test('wait on a process killed while queued exits 143 (as SIGTERM) and says it never ran', async () => {
  for (const id of ['q-run1', 'q-run2', 'q-queued']) assert.equal((await cli(['spawn', '--id', id, '--', SLEEPER])).code, 0);
  const info = JSON.parse((await cli(['info', 'q-queued', '--json'])).stdout) as { status: string };
  assert.equal(info.status, 'queued');
  assert.equal((await cli(['kill', 'q-queued', '--signal', 'KILL'])).code, 0);
  const w = await cli(['wait', 'q-queued']);
  assert.equal(w.code, 143);
  assert.match(w.stdout, /q-queued killed before it started \(it never ran\)/);
  for (const id of ['q-run1', 'q-run2']) await cli(['kill', id]);
});

test('wait on a process that could not start exits 127, as a shell for a command not found', async () => {
  const s = await cli(['spawn', '--id', 'nostart', '--', 'no-such-command-cd-xyz']);
  assert.equal(s.code, 1);
  assert.match(s.stderr, /SPAWN_FAILED/);
  const w = await cli(['wait', 'nostart']);
  assert.equal(w.code, 127, w.stdout + w.stderr);
  assert.match(w.stdout, /nostart failed/);
});

test('every wait that times out exits 124: wait, result, request --timeout', async () => {
  assert.equal((await cli(['spawn', '--id', 't-wait', '--', SLEEPER])).code, 0);
  const w = await cli(['wait', 't-wait', '--timeout', '0.2']);
  assert.equal(w.code, 124);
  const run = await cli(['claude', 'FAKE_HANG_MID', '--id', 't-claude']);
  assert.equal(run.code, 0, run.stderr);
  const r = await cli(['result', 't-claude', '--timeout', '0.2']);
  assert.equal(r.code, 124, r.stderr);
  const rq = await cli(['request', 'wait_process', '{"process_id": "t-wait", "timeout_s": 30}', '--timeout', '200']);
  assert.equal(rq.code, 124, rq.stderr);
  assert.match(rq.stderr, /no reply within 200 ms/);
  const general = await runCli(['--help']);
  assert.match(general.stdout, /124 a wait timed out/);
  await cli(['kill', 't-wait']);
  await cli(['kill', 't-claude']);
});

test('messages name CLI verbs, not wire commands', async () => {
  const nf = await cli(['info', 'missing-one']);
  assert.equal(nf.code, 1);
  assert.match(nf.stderr, /`claude-daemon list` shows the known ones/);
  assert.doesNotMatch(nf.stderr, /list_processes/);
  assert.equal((await cli(['spawn', '--id', 'm-busy', '--', SLEEPER])).code, 0);
  const busy = await cli(['rm', 'm-busy']);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /`claude-daemon kill` or `claude-daemon wait` it first/);
  const exists = await cli(['spawn', '--id', 'm-busy', '--', 'true']);
  assert.match(exists.stderr, /`claude-daemon rm` it first/);
  assert.doesNotMatch(exists.stderr, /remove_process/);
  await cli(['kill', 'm-busy']);
  const i = await cli(['info', 'm-busy']);
  assert.match(i.stdout, /reason:\s+claude-daemon kill \(SIGTERM\)/);
  // `request` speaks wire names, so its messages stay as the daemon wrote them.
  const raw = await cli(['request', 'process_info', '{"process_id": "missing-one"}']);
  assert.match(raw.stderr, /list_processes shows the known ones/);
});

test('ping reports max_running (JSON and the human line); spawn --help documents every option it lists', async () => {
  const j = await cli(['ping', '--json']);
  assert.equal(oneJsonLine(j)['max_running'], 2);
  const h = await cli(['ping']);
  assert.match(h.stdout, /, max running 2,/);
  const help = await runCli(['spawn', '--help']);
  const usage = /^usage: (.*)$/m.exec(help.stdout)![1]!;
  const listed = [...usage.matchAll(/--([a-z-]+)/g)].map((m) => m[1]!).filter((f) => f !== '');
  assert.ok(listed.length >= 6, usage);
  for (const flag of listed) assert.match(help.stdout, new RegExp(`^  --${flag}\\b`, 'm'), `--${flag} explained`);
});
