/**
 * Claude runs through the daemon with the fake `claude` stand-in (test/fixtures/fake-claude), for
 * what the real CLI cannot be made to do on demand: malformed stream lines, a hang after the
 * result, ignoring SIGINT and SIGTERM, dying without a result. Plus the refusals (CLAUDE_NOT_FOUND,
 * NOT_A_CLAUDE_RUN, SESSION_BUSY, bad parameters) and a daemon restart in the middle of a run.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { DaemonClient } from '../../src/index.js';
import type { ClaudeRunInfo } from '../../src/protocol/schemas/claude.js';
import type { ProcessRecord } from '../../src/protocol/schemas/processes.js';
import { FIXTURES, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

const FAKE = path.join(FIXTURES, 'fake-claude', 'claude');
const env = { CLAUDE_BIN: FAKE };
const claudeOf = (r: ProcessRecord): ClaudeRunInfo => r.claude as ClaudeRunInfo;
const fakeCmd = (prompt: string): string[] => [FAKE, '-p', '--output-format', 'stream-json', '--verbose', '--', prompt];

let d: TestDaemon;
let c: DaemonClient;
before(async () => {
  d = await startTestDaemon();
  c = await d.client();
});
after(async () => {
  await d?.stop();
});

async function codeOf(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await p;
    return { message: 'no error' };
  } catch (err) {
    return err as { code?: string; message: string };
  }
}

test('spawn_process of a claude command line is tracked too; malformed and split lines are survived', async () => {
  const rec = await c.spawnProcess({ cmd: fakeCmd('FAKE_MALFORMED'), process_id: 'malformed' });
  assert.ok(rec.claude, 'detected from the command line');
  const done = await c.waitProcess({ process_id: 'malformed', timeout_s: 20 });
  const ci = claudeOf(done);
  assert.equal(ci.malformed_lines, 3);
  assert.equal(ci.last_text, 'split line ok');
  assert.equal(ci.result, 'FAKE REPLY: survived malformed lines');
  assert.equal(ci.is_error, false);
  assert.equal(ci.state, 'done');
  assert.equal(ci.model, 'claude-fake-1');
  assert.equal((await c.claudeResult({ process_id: 'malformed' })).result, 'FAKE REPLY: survived malformed lines');
});

test('stall after the result: marked stalled and stopped with SIGTERM; the success verdict stands', async () => {
  await c.spawnClaude({ prompt: 'FAKE_HANG_AFTER_RESULT', env, stall_timeout_s: 3, process_id: 'hang-after' });
  const done = await c.waitProcess({ process_id: 'hang-after', timeout_s: 20 });
  assert.equal(done.timed_out, undefined);
  const ci = claudeOf(done);
  assert.equal(ci.state, 'stalled');
  assert.equal(ci.result, 'FAKE REPLY: hung after result');
  assert.equal(ci.is_error, false);
  assert.equal(done.status, 'killed');
  assert.equal(done.signal, 'SIGTERM');
  assert.match(done.reason ?? '', /stalled/);
});

test('the kill ladder: SIGINT, SIGTERM after grace_s, SIGKILL 2 s later; an explicit signal skips it', async () => {
  await Promise.all([
    c.spawnClaude({ prompt: 'FAKE_IGNORE_SIGNALS', env, process_id: 'stubborn' }),
    c.spawnClaude({ prompt: 'FAKE_HANG_MID', env, process_id: 'explicit' }),
    c.spawnClaude({ prompt: 'FAKE_HANG_MID', env, process_id: 'polite' }),
  ]);
  for (const id of ['stubborn', 'explicit', 'polite']) {
    await waitFor(async () => claudeOf(await c.processInfo(id)).last_text === 'working on it', { what: `${id} to be mid-stream` });
  }
  const t0 = Date.now();
  const [stubborn, explicit, polite] = await Promise.all([
    c.killProcess({ process_id: 'stubborn', grace_s: 0.3 }),
    c.killProcess({ process_id: 'explicit', signal: 'SIGTERM' }),
    c.killProcess({ process_id: 'polite' }),
  ]);
  const took = Date.now() - t0;
  assert.equal(stubborn.signal, 'SIGKILL');
  assert.ok(took >= 2000 && took < 8000, `SIGKILL came 2 s after the SIGTERM step (${took} ms)`);
  assert.equal(claudeOf(stubborn).is_error, true, 'no result line: a failure');
  assert.equal(claudeOf(stubborn).error, 'ended without a result line, stopped by the daemon: kill_process (SIGINT)');

  assert.equal(explicit.signal, 'SIGTERM', 'an explicit signal is sent as is');
  assert.equal(claudeOf(explicit).subtype, null, 'no SIGINT was sent, so no interrupted result line');
  assert.equal(claudeOf(explicit).is_error, true);

  assert.equal(polite.status, 'exited', 'the fake answers SIGINT with a result line and exit 1');
  assert.equal(claudeOf(polite).subtype, 'error_during_execution');
  assert.equal(claudeOf(polite).is_error, true);
  assert.equal(claudeOf(polite).error, 'interrupted, stopped by the daemon: kill_process (SIGINT)', 'who stopped it, not the subtype');
});

test('no result line is a failure; timeout_s stops a claude run the claude way', async () => {
  await Promise.all([
    c.spawnClaude({ prompt: 'FAKE_NO_RESULT', env, process_id: 'no-result' }),
    c.spawnClaude({ prompt: 'FAKE_HANG_MID', env, process_id: 'timed', timeout_s: 1 }),
  ]);
  const r = await c.claudeResult({ process_id: 'no-result', wait: true, timeout_s: 20 });
  assert.deepEqual({ result: r.result, is_error: r.is_error, subtype: r.subtype, running: r.running }, { result: null, is_error: true, subtype: null, running: false });
  assert.equal(r.error, 'fake: crashed before the result (exit code 1)', 'the last stderr line and the exit status');
  const cli = await d.cli(['result', 'no-result']);
  assert.equal(cli.stderr, 'no-result failed: fake: crashed before the result (exit code 1)\n');
  const t = await c.claudeResult({ process_id: 'timed', wait: true, timeout_s: 20 });
  assert.equal(t.subtype, 'error_during_execution', 'the timeout sent SIGINT first');
  assert.match((await c.processInfo('timed')).reason ?? '', /timeout/);
  assert.equal(t.error, 'interrupted, stopped by the daemon: timeout_s (1 s) reached');
});

test('claude_result without wait on a running run, and wait with a timeout', async () => {
  await c.spawnClaude({ prompt: 'FAKE_HANG_MID never ends', env, process_id: 'hanger' });
  const now = await c.claudeResult({ process_id: 'hanger' });
  assert.equal(now.running, true);
  assert.equal(now.result, null);
  assert.equal(now.is_error, null);
  const short = await c.claudeResult({ process_id: 'hanger', wait: true, timeout_s: 0.2 });
  assert.equal(short.timed_out, true);
  assert.equal(short.running, true);
  const cli = await d.cli(['result', 'hanger', '--timeout', '0.1']);
  assert.equal(cli.code, 4, 'still running');
  assert.match(cli.stderr, /still running/);
  await c.killProcess({ process_id: 'hanger' });

  await c.spawnClaude({ prompt: 'FAKE_SLEEP:300 slow one', env, process_id: 'sleeper' });
  const full = await d.cli(['result', 'sleeper']);
  assert.equal(full.code, 0);
  assert.equal(full.stdout, 'FAKE REPLY: FAKE_SLEEP:300 slow one\n');
});

test('SESSION_BUSY for a second writer of a session, free again after the first ends', async () => {
  const sid = randomUUID();
  await c.spawnClaude({ prompt: 'FAKE_SLEEP:800 first writer', env, session_id: sid, process_id: 'writer-1' });
  const again = await codeOf(c.spawnClaude({ prompt: 'second', env, resume: sid }));
  assert.equal(again.code, 'SESSION_BUSY');
  assert.match(again.message, /writer-1/);
  assert.equal((await codeOf(c.spawnClaude({ prompt: 'third', env, session_id: sid }))).code, 'SESSION_BUSY');
  const raw = [FAKE, '-p', '--output-format', 'stream-json', '--verbose', '--resume', sid, '--', 'raw'];
  assert.equal((await codeOf(c.spawnProcess({ cmd: raw }))).code, 'SESSION_BUSY', 'spawn_process of a claude command line too');
  // --fork-session writes a new session, so it is allowed.
  const fork = await c.spawnClaude({ prompt: 'fork', env, resume: sid, extra_args: ['--fork-session'] });
  await c.waitProcess({ process_id: 'writer-1', timeout_s: 20 });
  const next = await c.spawnClaude({ prompt: 'after', env, resume: sid, process_id: 'writer-2' });
  const r = await c.claudeResult({ process_id: next.process_id, wait: true, timeout_s: 20 });
  assert.equal(r.session_id, sid);
  await c.waitProcess({ process_id: fork.process_id, timeout_s: 20 });
});

test('refusals: CLAUDE_NOT_FOUND, NOT_A_CLAUDE_RUN, bad parameters', async () => {
  const missing = await codeOf(c.spawnClaude({ prompt: 'x', env: { CLAUDE_BIN: '/nonexistent/claude' } }));
  assert.equal(missing.code, 'CLAUDE_NOT_FOUND');
  assert.match(missing.message, /npm/);
  const noPath = await codeOf(c.spawnClaude({ prompt: 'x', env: { CLAUDE_BIN: '', PATH: '/nonexistent' } }));
  assert.equal(noPath.code, 'CLAUDE_NOT_FOUND');
  assert.match(noPath.message, /PATH/);

  await c.spawnProcess({ cmd: ['sh', '-c', 'echo hi'], process_id: 'plain-sh' });
  assert.equal((await codeOf(c.claudeResult({ process_id: 'plain-sh' }))).code, 'NOT_A_CLAUDE_RUN');
  assert.equal((await codeOf(c.claudeResult({ process_id: 'nope' }))).code, 'PROCESS_NOT_FOUND');

  const bad: Array<Record<string, unknown>> = [
    { prompt: '' },
    { prompt: 'x', session_id: 'not-a-uuid' },
    { prompt: 'x', max_turns: 0 },
    { prompt: 'x', permission_mode: 'yolo' },
    { prompt: 'x', allowed_tools: 'Bash' },
    { prompt: 'x', stall_timeout_s: -1 },
    { prompt: 'x', process_id: 'bad id' },
  ];
  for (const params of bad) {
    const e = await codeOf(c.request('spawn_claude', params as never));
    assert.equal(e.code, 'INVALID_PARAMS', JSON.stringify(params));
  }
  assert.equal((await codeOf(c.request('claude_result', {} as never))).code, 'INVALID_PARAMS');

  for (const args of [['claude'], ['claude', 'a', 'b'], ['claude', 'x', '--stall', 'soon'], ['result'], ['result', 'x', '--timeout', '-1']]) {
    const r = await d.cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /usage: claude-daemon (claude|result)/);
  }
});

test('a daemon killed mid-run: the new daemon re-reads the run and gets its result', async () => {
  await c.spawnClaude({ prompt: 'FAKE_SLEEP:1500 survive the daemon', env, process_id: 'survivor' });
  const short = await c.spawnClaude({ prompt: 'FAKE_SLEEP:300 end while down', env, process_id: 'ended-while-down' });
  const crash = await c.spawnClaude({ prompt: 'FAKE_SLEEP:300 FAKE_NO_RESULT crash while down', env, process_id: 'crashed-while-down' });
  // An ended run whose saved object predates `error` (written by an older daemon).
  await c.spawnClaude({ prompt: 'FAKE_NO_RESULT old record', env, process_id: 'old-record' });
  await c.waitProcess({ process_id: 'old-record', timeout_s: 20 });
  const saved = path.join(d.home, 'processes', 'old-record', 'record.json');
  await waitFor(() => fs.readFileSync(saved, 'utf8').includes('crashed before the result'), { what: 'the ended record to be saved' });
  await waitFor(async () => claudeOf(await c.processInfo('survivor')).state === 'working', { what: 'survivor to start' });
  await d.kill('SIGKILL');
  const stored = JSON.parse(fs.readFileSync(saved, 'utf8')) as { record: { claude: Record<string, unknown> } };
  assert.equal(stored.record.claude['error'], 'fake: crashed before the result (exit code 1)');
  delete stored.record.claude['error'];
  delete stored.record.claude['error_type'];
  fs.writeFileSync(saved, JSON.stringify(stored));
  // Let `ended-while-down` end while no daemon runs (its wrapper records the exit).
  await waitFor(() => !alive(short.pid!) && !alive(crash.pid!), { what: 'the short runs to end', timeoutMs: 20_000 });
  await d.restart();
  c = await d.client();
  const r = await c.claudeResult({ process_id: 'survivor', wait: true, timeout_s: 20 });
  assert.equal(r.result, 'FAKE REPLY: FAKE_SLEEP:1500 survive the daemon');
  assert.equal(r.is_error, false);
  const e = await c.claudeResult({ process_id: 'ended-while-down', wait: true, timeout_s: 20 });
  assert.equal(e.result, 'FAKE REPLY: FAKE_SLEEP:300 end while down');
  assert.equal(claudeOf(await c.processInfo('ended-while-down')).state, 'done');
  assert.equal(e.error, null);
  const x = await c.claudeResult({ process_id: 'crashed-while-down', wait: true, timeout_s: 20 });
  assert.equal(x.error, 'fake: crashed before the result (exit code 1)', 'a run that ended while the daemon was down says why');
  assert.equal(claudeOf(await c.processInfo('old-record')).error, 'fake: crashed before the result (exit code 1)', 'an old saved object is derived again');
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
