/**
 * Live claude sessions (`spawn_claude {interactive: true}`) with the REAL claude CLI against the
 * local mock API: turns by send_message, queued messages, interrupt, close_input, idle timeout,
 * and a session that outlives a daemon SIGKILL (its stdin is the wrapper-held FIFO).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import type { DaemonClient } from '../../src/index.js';
import type { ClaudeRunInfo, ClaudeTurn } from '../../src/protocol/schemas/claude.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { offlineClaudeEnv, startMockAnthropic, type MockAnthropic } from '../helpers/mock-anthropic.js';
import { waitFor } from '../helpers/wait.js';

let mock: MockAnthropic;
let d: TestDaemon;
let c: DaemonClient;
let cwd: string;
before(async () => {
  mock = await startMockAnthropic();
  d = await startTestDaemon({ env: offlineClaudeEnv(mock) });
  c = await d.client();
  cwd = `${d.dir}/work`;
  fs.mkdirSync(cwd);
});
after(async () => {
  await d?.stop({ killProcesses: true });
  await mock?.close();
});

async function turnsOf(id: string): Promise<ClaudeTurn[]> {
  const info = (await c.processInfo(id)).claude as ClaudeRunInfo;
  return info.turns ?? [];
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

test('live session: two turns, claude_result {turn}, idle between turns, a one-shot run refuses send_message', async () => {
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
