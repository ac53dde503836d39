/**
 * Usage limits as claude reports them: the tracker tells "the account hit its usage limit" (a
 * `rate_limit_event` with status `rejected`, or the limit wordings) from every other failure,
 * including an ordinary 429 under API-key auth, and keeps the reset time. Then the real CLI under
 * subscription auth against the mock's unified rate-limit headers, through a real daemon.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { DaemonClient } from '../../src/index.js';
import { StreamTracker } from '../../src/daemon/claude/tracker.js';
import type { ClaudeRunInfo } from '../../src/protocol/schemas/claude.js';
import { FIXTURES, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { startMockAnthropic, subscriptionClaudeEnv, type MockAnthropic } from '../helpers/mock-anthropic.js';
import { waitFor } from '../helpers/wait.js';

function track(text: string): ClaudeRunInfo {
  const t = new StreamTracker();
  t.push(Buffer.from(text));
  t.finish();
  return t.info;
}

const line = (o: object): string => `${JSON.stringify(o)}\n`;
const failedResult = (text: string, status: number | null): string =>
  line({ type: 'result', subtype: 'success', is_error: true, api_error_status: status, result: text, num_turns: 1, total_cost_usd: 0 });

test('tracker: a rejected rate_limit_event before a failed result is a usage limit with its reset time (captured from the real CLI)', () => {
  const info = track(fs.readFileSync(path.join(FIXTURES, 'claude', 'example-stream-json-usage-limit.txt'), 'utf8'));
  assert.equal(info.is_error, true);
  assert.equal(info.api_error_status, 429);
  assert.deepEqual(info.rate_limit, { status: 'rejected', resets_at: 1796169506, limit_type: 'five_hour', utilization: null, is_using_overage: false });
  assert.ok(info.usage_limit);
  assert.equal(info.usage_limit.resets_at, 1796169506);
  assert.equal(info.usage_limit.limit_type, 'five_hour');
  assert.match(info.usage_limit.message, /You've hit your session limit/);
});

test('tracker: an ordinary 429 (API-key auth, no limit event), a 500 and a success are not usage limits', () => {
  assert.equal(track(failedResult('API Error: Request rejected (429) · rate limit exceeded', 429)).usage_limit, null);
  assert.equal(track(failedResult('API Error: 500 internal server error', 500)).usage_limit, null);
  const ok = track(
    line({ type: 'rate_limit_event', rate_limit_info: { status: 'allowed', resetsAt: 1796169450, rateLimitType: 'five_hour', isUsingOverage: false, utilization: 0.8 } }) +
      line({ type: 'result', subtype: 'success', is_error: false, result: 'done', num_turns: 1 }),
  );
  assert.equal(ok.usage_limit, null);
  assert.deepEqual(ok.rate_limit, { status: 'allowed', resets_at: 1796169450, limit_type: 'five_hour', utilization: 0.8, is_using_overage: false });
});

test('tracker: the limit wordings without an event, and the legacy form with its epoch, are usage limits', () => {
  const reached = track(failedResult("You've reached your weekly limit · resets Mon 9:00am (UTC)", 429)).usage_limit;
  assert.ok(reached);
  assert.equal(reached.resets_at, null);
  const legacy = track(failedResult('Claude AI usage limit reached|1796170000', null)).usage_limit;
  assert.ok(legacy);
  assert.equal(legacy.resets_at, 1796170000);
  // A hostile event payload is ignored, never thrown on.
  assert.equal(track(line({ type: 'rate_limit_event', rate_limit_info: 'nope' })).rate_limit, null);
});

let mock: MockAnthropic;
let d: TestDaemon;
let c: DaemonClient;
before(async () => {
  mock = await startMockAnthropic();
  d = await startTestDaemon({ env: subscriptionClaudeEnv(mock) });
  c = await d.client();
});
after(async () => {
  await d?.stop();
  await mock?.close();
});

test('real claude under subscription auth: a run stopped by the usage limit says so with the reset time; a later run sees the limit allowed', async () => {
  const resetsAt = Math.ceil(Date.now() / 1000) + 3600;
  mock.setUsageLimit({ rejectUntilMs: Date.now() + 600_000, resetsAt });
  await c.spawnClaude({ prompt: 'hello limit', process_id: 'ul-hit' });
  // The run is re-queued to resume after the reset (test/scheduler/holds.test.ts): its attempt is kept.
  const requeued = await waitFor(async () => {
    const r = (await c.listProcesses()).processes.find((p) => p.process_id === 'ul-hit');
    return r?.limit_resumes === 1 ? r : undefined;
  }, { timeoutMs: 60_000, what: 'the run re-queued at the limit' });
  assert.equal(requeued.status, 'queued');
  const hit = requeued.limit_attempts![0] as unknown as ClaudeRunInfo;
  assert.equal(hit.is_error, true);
  assert.equal(hit.rate_limit?.status, 'rejected');
  assert.deepEqual({ ...hit.usage_limit, message: undefined }, { resets_at: resetsAt, limit_type: 'five_hour', message: undefined });
  assert.match(hit.usage_limit?.message ?? '', /hit your session limit/);
  const info = await d.cli(['info', 'ul-hit']);
  const when = new Date(resetsAt * 1000).toISOString().slice(0, 16).replace('T', ' ');
  assert.match(info.stdout, new RegExp(`usage limit: +five_hour limit, resets ${when} UTC \\(resumption 1 queued\\)`), info.stdout);

  mock.setUsageLimit({ rejectUntilMs: Date.now() - 1, resetsAt });
  // The daemon holds claude runs for an hour now; this one is urgent.
  await c.spawnClaude({ prompt: 'hello again', process_id: 'ul-ok', ignore_hold: true });
  const ok = (await c.waitProcess({ process_id: 'ul-ok', timeout_s: 60 })).claude as ClaudeRunInfo;
  assert.equal(ok.is_error, false, JSON.stringify(ok));
  assert.equal(ok.usage_limit, null);
  assert.equal(ok.rate_limit?.status, 'allowed');
  assert.equal(ok.rate_limit?.resets_at, resetsAt);
});
