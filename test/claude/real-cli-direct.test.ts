/**
 * The tracker and the file follower against the REAL claude CLI run directly (no daemon) against the
 * local mock API: stdout goes to a file, exactly as the supervisor hands it to a child, and is
 * followed while the run writes it. Fails (never skips) when the CLI is not installed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { FileFollower } from '../../src/daemon/claude/follow.js';
import { StreamTracker } from '../../src/daemon/claude/tracker.js';
import { buildClaudeArgs } from '../../src/daemon/claude/argv.js';
import { offlineClaudeEnv, startMockAnthropic, type MockAnthropic } from '../helpers/mock-anthropic.js';
import { waitFor } from '../helpers/wait.js';

let mock: MockAnthropic;
let dir: string;
let env: Record<string, string>;
before(async () => {
  mock = await startMockAnthropic();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cd-claude-direct-'));
  env = offlineClaudeEnv(mock, dir);
});
after(async () => {
  await mock.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs the real CLI with stdout in a file, following it live; returns the tracker after the exit. */
async function run(prompt: string, extra: Partial<Parameters<typeof buildClaudeArgs>[0]> = {}): Promise<{ t: StreamTracker; code: number | null; states: string[] }> {
  const out = path.join(dir, `out-${Math.random().toString(36).slice(2)}.jsonl`);
  const fd = fs.openSync(out, 'w');
  const t = new StreamTracker();
  const states: string[] = [];
  const follower = new FileFollower(out, (chunk) => {
    t.push(chunk);
    if (states.at(-1) !== t.info.state) states.push(t.info.state);
  }, { pollMs: 50 });
  const child = spawn(env['CLAUDE_BIN']!, buildClaudeArgs({ prompt, ...extra }), { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', fd, 'ignore'] });
  fs.closeSync(fd);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  await follower.stop();
  t.finish();
  return { t, code, states };
}

test('real CLI: plain reply, API 500 and a Bash tool round trip, followed live from files', async () => {
  const [plain, err, tool] = await Promise.all([
    run('hello from the tracker test', { model: 'claude-mock-model' }),
    run('MOCK_500 please fail'),
    run('MOCK_TOOL:echo tracked-tool-output| go', { allowed_tools: ['Bash'] }),
  ]);

  assert.equal(plain.code, 0);
  assert.equal(plain.t.info.result, 'MOCK REPLY: hello from the tracker test');
  assert.equal(plain.t.info.is_error, false);
  assert.equal(plain.t.info.model, 'claude-mock-model');
  assert.match(plain.t.info.session_id ?? '', /^[0-9a-f-]{36}$/);
  assert.ok((plain.t.info.total_cost_usd ?? 0) > 0);
  assert.equal(plain.t.info.malformed_lines, 0);
  assert.deepEqual(plain.states.at(-1), 'done');

  assert.equal(err.code, 1);
  assert.equal(err.t.info.is_error, true);
  assert.equal(err.t.info.api_error_status, 500);

  assert.equal(tool.code, 0);
  assert.equal(tool.t.info.result, 'MOCK REPLY: tool said tracked-tool-output');
  assert.equal(tool.t.info.num_turns, 2);
  assert.equal(tool.t.info.is_error, false);
  const toolReqs = mock.messagesMatching('MOCK_TOOL:echo tracked-tool-output|');
  assert.equal(toolReqs.length, 2, 'one request for the tool_use, one carrying the tool_result');
});

test('the follower picks up bytes appended after it started, and a file created late', async () => {
  const file = path.join(dir, 'late.txt');
  const got: string[] = [];
  const f = new FileFollower(file, (c) => got.push(c.toString()), { pollMs: 30 });
  await f.poll();
  fs.writeFileSync(file, 'one\n');
  await waitFor(() => got.join('') === 'one\n', { what: 'first bytes' });
  fs.appendFileSync(file, 'two\n');
  await waitFor(() => got.join('') === 'one\ntwo\n', { what: 'appended bytes' });
  fs.appendFileSync(file, 'three');
  await f.stop();
  assert.equal(got.join(''), 'one\ntwo\nthree');
  assert.equal(f.position, 13);
});
