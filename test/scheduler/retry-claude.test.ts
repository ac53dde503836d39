/**
 * Retries of real claude runs (the real CLI against the mock API): an attempt the API fails
 * (claude's failure verdict) is retried, and with `retry.resume` the next attempt continues the
 * failed attempt's session (`--resume SESSION`) instead of starting over.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { DaemonClient } from '../../src/index.js';
import type { TestDaemon } from '../helpers/daemon.js';
import type { MockAnthropic } from '../helpers/mock-anthropic.js';
import { startClaudeTestDaemon, stopClaudeTestDaemon } from '../helpers/claude-daemon.js';

let mock: MockAnthropic;
let d: TestDaemon;
let c: DaemonClient;
let cwd: string;
before(async () => void ({ mock, d, c, cwd } = await startClaudeTestDaemon()));
after(() => stopClaudeTestDaemon({ d, mock }));

test('retry.resume: a claude attempt failed by the API is retried with --resume and the first attempt\'s session id', async () => {
  const run = await c.spawnClaude({ prompt: 'MOCK_500_ONCE resume me', cwd, process_id: 'cr', retry: { max: 2, backoff_s: 0, resume: true } });
  assert.equal(run.retry?.resume, true);
  assert.ok(!run.cmd.includes('--resume'));
  const res = await c.claudeResult({ process_id: 'cr', wait: true, timeout_s: 120 });
  assert.equal(res.is_error, false);
  const rec = await c.processInfo('cr');
  assert.equal(rec.status, 'exited');
  const a = rec.attempts!;
  assert.equal(a.length, 2);
  assert.equal(a[0]!.verdict, 'error');
  assert.equal(a[1]!.verdict, 'success');
  const session = a[0]!.session_id;
  assert.ok(session !== null, 'the failed attempt reported its session');
  const i = rec.cmd.indexOf('--resume');
  assert.ok(i > 0, `argv resumes: ${rec.cmd.join(' ')}`);
  assert.equal(rec.cmd[i + 1], session);
  assert.equal(rec.cmd.at(-1), 'MOCK_500_ONCE resume me');
  assert.equal(mock.messagesMatching('MOCK_500_ONCE resume me').length, 2, 'one failed request, one retried');
  // The first attempt's stream is kept apart from the second's.
  assert.match((await c.readOutput({ process_id: 'cr', attempt: 1 })).data, /"is_error":true/);
  assert.match((await c.readOutput({ process_id: 'cr' })).data, /MOCK REPLY/);
});

test('retry without resume: a claude run failed by the API starts over (no --resume); on: [ "api_error" ] counts it', async () => {
  await c.spawnClaude({ prompt: 'MOCK_500_ONCE start over', cwd, process_id: 'cs', retry: { max: 1, backoff_s: 0, on: ['api_error'] } });
  const res = await c.claudeResult({ process_id: 'cs', wait: true, timeout_s: 120 });
  assert.equal(res.is_error, false);
  const rec = await c.processInfo('cs');
  assert.equal(rec.attempts!.length, 2);
  assert.ok(!rec.cmd.includes('--resume'));
});
