/**
 * Live claude sessions (`spawn_claude {interactive: true}`) with the REAL claude CLI against the
 * local mock API: turns by send_message, queued messages, interrupt, close_input, idle timeout,
 * and a session that outlives a daemon SIGKILL (its stdin is the wrapper-held FIFO).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import type { DaemonClient } from '../../src/index.js';
import type { ClaudeRunInfo, ClaudeTurn } from '../../src/protocol/schemas/claude.js';
import { ROOT, type TestDaemon } from '../helpers/daemon.js';
import type { MockAnthropic } from '../helpers/mock-anthropic.js';
import { startClaudeTestDaemon, stopClaudeTestDaemon } from '../helpers/claude-daemon.js';
import { codeOf } from '../helpers/error-code.js';
import { waitFor } from '../helpers/wait.js';

let mock: MockAnthropic;
let d: TestDaemon;
let c: DaemonClient;
let cwd: string;
before(async () => void ({ mock, d, c, cwd } = await startClaudeTestDaemon()));
after(() => stopClaudeTestDaemon({ d, mock }));

async function turnsOf(id: string): Promise<ClaudeTurn[]> {
  const info = (await c.processInfo(id)).claude as ClaudeRunInfo;
  return info.turns ?? [];
}

test('live session: two turns, claude_result {turn}, idle between turns, SESSION_BUSY for a second writer, a one-shot run refuses send_message', async () => {
  const s = await c.spawnClaude({ prompt: 'first live turn', cwd, interactive: true });
  const id = s.process_id;
  assert.match(s.cmd.join(' '), /--input-format stream-json/);
  const r1 = await c.claudeResult({ process_id: id, turn: 1, wait: true, timeout_s: 90 });
  assert.equal(r1.result, 'MOCK REPLY: first live turn');
  assert.equal(r1.is_error, false);
  assert.equal(r1.turn?.state, 'done');
  assert.equal(r1.running, true);
  await waitFor(async () => ((await c.processInfo(id)).claude as ClaudeRunInfo).state === 'idle', { timeoutMs: 30_000, what: 'idle' });
  const m = await c.sendMessage({ process_id: id, text: 'second live turn' });
  assert.equal(m.turn, 2);
  const r2 = await c.claudeResult({ process_id: id, turn: 2, wait: true, timeout_s: 90 });
  assert.equal(r2.result, 'MOCK REPLY: second live turn');
  assert.equal(r2.turn?.state, 'done');
  assert.ok(r2.turn?.started_at !== null && r2.turn?.ended_at !== null);
  assert.ok((r2.turn?.cost_usd ?? -1) >= 0);
  // Turn 1 answers for itself still.
  assert.equal((await c.claudeResult({ process_id: id, turn: 1 })).result, 'MOCK REPLY: first live turn');
  assert.equal(await codeOf(c.claudeResult({ process_id: id, turn: 9 })), 'INVALID_PARAMS');
  const info = (await c.processInfo(id)).claude as ClaudeRunInfo;
  assert.equal(info.interactive, true);
  assert.deepEqual(info.turns?.map((t) => t.state), ['done', 'done']);
  // One writer per session: the live session holds its session id between turns.
  assert.equal(await codeOf(c.spawnClaude({ prompt: 'second writer', cwd, resume: info.session_id! })), 'SESSION_BUSY');
  await c.closeInput({ process_id: id });
  const w = await c.waitProcess({ process_id: id, timeout_s: 60 });
  assert.equal(w.status, 'exited');
  assert.equal(w.exit_code, 0);
  assert.equal(await codeOf(c.sendMessage({ process_id: id, text: 'too late' })), 'SESSION_CLOSED');
  const oneShot = await c.spawnClaude({ prompt: 'one shot', cwd });
  assert.equal(await codeOf(c.sendMessage({ process_id: oneShot.process_id, text: 'x' })), 'NOT_INTERACTIVE');
  await c.waitProcess({ process_id: oneShot.process_id, timeout_s: 60 });
});

test('live session: no prompt waits for send_message; messages sent during a turn run after it, in order; close_input ends after queued turns', async () => {
  const s = await c.spawnClaude({ cwd, interactive: true });
  const id = s.process_id;
  const a = await c.sendMessage({ process_id: id, text: 'MOCK_SLOW:1500 turn one' });
  assert.equal(a.turn, 1);
  const b = await c.sendMessage({ process_id: id, text: 'turn two' });
  const cc = await c.sendMessage({ process_id: id, text: 'turn three' });
  assert.deepEqual([b.turn, cc.turn, b.queued, cc.queued], [2, 3, true, true]);
  const closed = await c.closeInput({ process_id: id });
  assert.equal(closed.closed_now, true);
  const twice = await c.closeInput({ process_id: id });
  assert.equal(twice.closed_now, false);
  assert.ok(twice.pending_turns >= 2, JSON.stringify(twice));
  assert.equal(await codeOf(c.sendMessage({ process_id: id, text: 'after close' })), 'SESSION_CLOSED');
  const w = await c.waitProcess({ process_id: id, timeout_s: 120 });
  assert.equal(w.exit_code, 0);
  const turns = await turnsOf(id);
  assert.deepEqual(turns.map((t) => [t.number, t.state, t.result]), [
    [1, 'done', 'MOCK REPLY: MOCK_SLOW:1500 turn one'],
    [2, 'done', 'MOCK REPLY: turn two'],
    [3, 'done', 'MOCK REPLY: turn three'],
  ]);
  // Each turn started after the previous one ended (written by the daemon, not queued in claude).
  for (let i = 1; i < turns.length; i++) assert.ok(turns[i]!.started_at! >= turns[i - 1]!.ended_at!, JSON.stringify(turns));
});

test('live session: interrupt mid-turn ends the turn interrupted, the session stays and takes the next turn', async () => {
  const s = await c.spawnClaude({ prompt: 'MOCK_SLOW:20000 long turn', cwd, interactive: true });
  const id = s.process_id;
  await waitFor(async () => mock.requests.some((r) => r.prompt.includes('MOCK_SLOW:20000 long turn')), { timeoutMs: 60_000, what: 'turn 1 at the API' });
  const i = await c.interrupt({ process_id: id });
  assert.deepEqual([i.turn, i.interrupted], [1, true]);
  const r1 = await c.claudeResult({ process_id: id, turn: 1, wait: true, timeout_s: 60 });
  assert.equal(r1.turn?.state, 'interrupted');
  assert.equal(r1.is_error, true);
  assert.equal((await c.interrupt({ process_id: id })).interrupted, false); // idle: nothing to stop
  const m = await c.sendMessage({ process_id: id, text: 'after the interrupt' });
  const r2 = await c.claudeResult({ process_id: id, turn: m.turn, wait: true, timeout_s: 60 });
  assert.equal(r2.turn?.state, 'done');
  assert.match(r2.result ?? '', /after the interrupt/);
  await c.closeInput({ process_id: id });
  assert.equal((await c.waitProcess({ process_id: id, timeout_s: 60 })).exit_code, 0);
});

test('live session queued by the scheduler takes messages before it starts; they run once it does', async () => {
  const s = await c.spawnClaude({ prompt: 'queued first', cwd, interactive: true, start_after_s: 1.5 });
  assert.equal(s.status, 'queued');
  const m = await c.sendMessage({ process_id: s.process_id, text: 'queued second' });
  assert.deepEqual([m.turn, m.queued], [2, true]);
  await c.closeInput({ process_id: s.process_id });
  const w = await c.waitProcess({ process_id: s.process_id, timeout_s: 120 });
  assert.equal(w.exit_code, 0);
  assert.deepEqual((w.claude as ClaudeRunInfo).turns?.map((t) => [t.state, t.result]), [['done', 'MOCK REPLY: queued first'], ['done', 'MOCK REPLY: queued second']]);
});

test('live session: idle_timeout_s closes an idle session', async () => {
  const s = await c.spawnClaude({ prompt: 'soon idle', cwd, interactive: true, idle_timeout_s: 1 });
  const w = await c.waitProcess({ process_id: s.process_id, timeout_s: 90 });
  assert.equal(w.status, 'exited');
  assert.equal(w.exit_code, 0);
  const info = w.claude as ClaudeRunInfo;
  assert.equal(info.input_closed, true);
  assert.deepEqual(info.turns?.map((t) => t.state), ['done']);
  assert.equal(await codeOf(c.spawnClaude({ prompt: 'x', cwd, idle_timeout_s: 1 })), 'INVALID_PARAMS');
  assert.equal(await codeOf(c.spawnClaude({ cwd })), 'INVALID_PARAMS');
});

test('live session survives a daemon SIGKILL between turns: send_message reaches it, turns are rebuilt and tracked', async () => {
  const s = await c.spawnClaude({ prompt: 'before the crash', cwd, interactive: true });
  const id = s.process_id;
  await c.claudeResult({ process_id: id, turn: 1, wait: true, timeout_s: 90 });
  c.close();
  await d.kill('SIGKILL');
  await d.restart();
  c = await d.client();
  const rec = await c.processInfo(id);
  assert.equal(rec.status, 'running');
  const before = await waitFor(async () => {
    const t = await turnsOf(id);
    return t.length === 1 && t[0]!.state === 'done' ? t : undefined;
  }, { timeoutMs: 30_000, what: 'turn 1 rebuilt' });
  assert.equal(before[0]!.result, 'MOCK REPLY: before the crash');
  const m = await c.sendMessage({ process_id: id, text: 'after the crash' });
  assert.equal(m.turn, 2);
  const r2 = await c.claudeResult({ process_id: id, turn: 2, wait: true, timeout_s: 90 });
  assert.equal(r2.result, 'MOCK REPLY: after the crash');
  await c.closeInput({ process_id: id });
  const w = await c.waitProcess({ process_id: id, timeout_s: 60 });
  assert.equal(w.exit_code, 0);
  assert.deepEqual((w.claude as ClaudeRunInfo).turns?.map((t) => t.state), ['done', 'done']);
});

test('CLI verbs and the Python client drive a live session (claude --interactive, send, interrupt, close-input; send_message, claude_result turn, close_input)', async () => {
  const id = 'live-cli';
  const first = await d.cli(['claude', '--interactive', 'cli first', '--id', id, '--cwd', cwd, '--wait'], { timeoutMs: 90_000 });
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout, 'MOCK REPLY: cli first\n');
  const second = await d.cli(['send', id, 'cli second', '--wait'], { timeoutMs: 90_000 });
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stdout, 'MOCK REPLY: cli second\n');
  const turn2 = await d.cli(['result', id, '--turn', '2']);
  assert.deepEqual([turn2.code, turn2.stdout], [0, 'MOCK REPLY: cli second\n']);
  const idle = await d.cli(['interrupt', id]);
  assert.deepEqual([idle.code, idle.stdout], [0, `${id} idle (no turn running)\n`]);
  assert.equal((await d.cli(['claude', '--idle-timeout', '5', 'x'])).code, 2);
  // Not spawnSync: the mock API serves from this very process.
  const py = await promisify(execFile)('python3', ['-c', `
import json, sys
sys.path.insert(0, ${JSON.stringify(`${ROOT}/python`)})
from client import send_message, claude_result, close_input
m = send_message(${JSON.stringify(id)}, 'from python')
r = claude_result(${JSON.stringify(id)}, turn=m['turn'], wait=True, timeout_s=90)
cl = close_input(${JSON.stringify(id)})
print(json.dumps(dict(m=m, r=r, cl=cl)))
`], { env: { ...process.env, CLAUDE_DAEMON_SOCKET: d.socket }, encoding: 'utf8', timeout: 120_000 });
  const out = JSON.parse(py.stdout) as { m: { turn: number }; r: { result: string; turn: ClaudeTurn }; cl: { closed_now: boolean } };
  assert.equal(out.m.turn, 3);
  assert.equal(out.r.result, 'MOCK REPLY: from python');
  assert.equal(out.r.turn.state, 'done');
  assert.equal(out.cl.closed_now, true);
  assert.equal((await c.waitProcess({ process_id: id, timeout_s: 60 })).exit_code, 0);
  const ended = await d.cli(['close-input', id]);
  assert.equal(ended.code, 1);
  assert.match(ended.stderr, /SESSION_CLOSED/);
});
