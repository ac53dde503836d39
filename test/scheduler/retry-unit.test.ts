/**
 * The retry rules as pure functions (scheduler/retry.ts): which ends count as failed attempts,
 * the backoff with its jitter, and the resumed command line.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProcessRecord } from '../../src/protocol/schemas/processes.js';
import { backoffMs, failureKinds, resumeArgv, retrySettings, shouldRetry } from '../../src/daemon/scheduler/retry.js';

function rec(over: Partial<ProcessRecord>): ProcessRecord {
  return { status: 'exited', exit_code: 1, signal: null, reason: null, retry: retrySettings({ max: 2 }), ...over } as ProcessRecord;
}

test('retry rules: a usage-limit end, a kill_process and a start failure are no failed attempts; timeouts and stalls only when named', () => {
  assert.equal(shouldRetry(rec({})), true);
  assert.equal(shouldRetry(rec({ exit_code: 0 })), false);
  assert.equal(shouldRetry(rec({ exit_code: 0, claude: { is_error: true, api_error_status: 500, usage_limit: null } })), true);
  // A usage limit is held by the usage-limit holds, never retried.
  assert.deepEqual(failureKinds(rec({ claude: { is_error: true, api_error_status: 429, usage_limit: { kind: 'five_hour' } } })), []);
  assert.equal(shouldRetry(rec({ retry: retrySettings({ max: 2, on: ['api_error', 1] }), claude: { is_error: true, api_error_status: 429, usage_limit: { kind: 'five_hour' } } })), false);
  assert.equal(shouldRetry(rec({ status: 'killed', exit_code: null, signal: 'SIGTERM', reason: 'kill_process (SIGTERM)' })), false);
  assert.equal(shouldRetry(rec({ status: 'failed', exit_code: null })), false);
  const timeout = rec({ status: 'killed', exit_code: null, signal: 'SIGTERM', reason: 'timeout_s (1 s) reached' });
  assert.equal(shouldRetry(timeout), false);
  assert.equal(shouldRetry({ ...timeout, retry: retrySettings({ max: 1, on: ['timeout'] }) }), true);
  const stall = rec({ exit_code: 0, reason: 'stalled: no stream event for 5 s (stall_timeout_s)', claude: { is_error: true } });
  assert.equal(shouldRetry(stall), false);
  assert.equal(shouldRetry({ ...stall, retry: retrySettings({ max: 1, on: ['stall'] }) }), true);
  // `max` retries, then no more.
  assert.equal(shouldRetry(rec({ attempts: [{}, {}] as ProcessRecord['attempts'] })), false);
});

test('retry backoff: backoff_s * factor^(n-1), capped by max_backoff_s, lengthened by at most 10%', () => {
  const r = retrySettings({ max: 5, backoff_s: 1, backoff_factor: 3, max_backoff_s: 5 });
  assert.equal(backoffMs(r, 1, () => 0), 1000);
  assert.equal(backoffMs(r, 2, () => 0), 3000);
  assert.equal(backoffMs(r, 3, () => 0), 5000);
  assert.equal(backoffMs(r, 1, () => 0.999), 1100);
});

test('retry resume: --resume SESSION before the prompt, replacing an earlier --resume or --session-id', () => {
  assert.deepEqual(resumeArgv(['claude', '-p', '--session-id', 'a', '--', 'hi'], 's1'), ['claude', '-p', '--resume', 's1', '--', 'hi']);
  assert.deepEqual(resumeArgv(['claude', '-p', '--resume', 'old', '--', '--resume'], 's2'), ['claude', '-p', '--resume', 's2', '--', '--resume']);
  assert.deepEqual(resumeArgv(['sh', '-c', 'x'], 's'), ['sh', '-c', 'x']);
});
