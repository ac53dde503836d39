/**
 * A failed claude run says why: the REAL claude CLI, through a real daemon, against the local mock
 * API answering 401, 429 and 500, an unreachable base URL, no API key, a bad flag and a turn limit.
 * Each gives a clear `claude.error` in the record and `claude_result`, and the CLI prints it (never
 * the `subtype`, which claude sets to `success` even for API errors). Retries are off
 * (CLAUDE_CODE_MAX_RETRIES=0 in offlineClaudeEnv), so each run fails in about a second.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import type { DaemonClient } from '../../src/index.js';
import type { ClaudeRunInfo } from '../../src/protocol/schemas/claude.js';
import type { TestDaemon } from '../helpers/daemon.js';
import type { MockAnthropic } from '../helpers/mock-anthropic.js';
import { startClaudeTestDaemon, stopClaudeTestDaemon } from '../helpers/claude-daemon.js';
import { waitFor } from '../helpers/wait.js';

let mock: MockAnthropic;
let d: TestDaemon;
let c: DaemonClient;
let cwd: string;
before(async () => void ({ mock, d, c, cwd } = await startClaudeTestDaemon()));
after(() => stopClaudeTestDaemon({ d, mock }));

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

interface Case {
  id: string;
  params: Partial<Parameters<DaemonClient['spawnClaude']>[0]>;
  prompt: string;
  error: RegExp;
  errorType: string | null;
  status?: number;
}

test('real claude: 401, 429, 500, unreachable API, not logged in, a bad flag and a turn limit each give a clear error, in the record and from the CLI', async () => {
  const port = await closedPort();
  const cases: Case[] = [
    { id: 'f-401', prompt: 'MOCK_401 bad key', params: {}, error: /Invalid API key/, errorType: 'authentication_failed', status: 401 },
    { id: 'f-429', prompt: 'MOCK_429 slow down', params: {}, error: /Request rejected \(429\).*rate limit exceeded/, errorType: 'rate_limit', status: 429 },
    { id: 'f-500', prompt: 'MOCK_500 boom', params: {}, error: /API Error: 500 mock: internal server error/, errorType: 'server_error', status: 500 },
    { id: 'f-down', prompt: 'hello?', params: { env: { ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}` } }, error: /Unable to connect to API \(ConnectionRefused\)/, errorType: 'server_error' },
    { id: 'f-login', prompt: 'hello?', params: { env: { ANTHROPIC_API_KEY: '' } }, error: /Not logged in · Please run \/login/, errorType: 'authentication_failed' },
    { id: 'f-flag', prompt: 'hello?', params: { extra_args: ['--json-schema', 'not json'] }, error: /--json-schema is not valid JSON/, errorType: null },
    { id: 'f-turns', prompt: 'MOCK_TOOL:echo one| go', params: { max_turns: 1, allowed_tools: ['Bash'] }, error: /maximum number of turns/i, errorType: 'error_max_turns' },
  ];
  await Promise.all(cases.map((k) => c.spawnClaude({ prompt: k.prompt, cwd, process_id: k.id, ...k.params })));
  for (const k of cases) {
    const r = await c.claudeResult({ process_id: k.id, wait: true, timeout_s: 60 });
    assert.equal(r.is_error, true, k.id);
    assert.match(r.error ?? '', k.error, `${k.id}: claude_result.error`);
    assert.equal(r.error_type, k.errorType, `${k.id}: claude_result.error_type`);
    const info = (await c.processInfo(k.id)).claude as ClaudeRunInfo;
    assert.match(info.error ?? '', k.error, `${k.id}: record claude.error`);
    assert.equal(info.error_type, k.errorType, `${k.id}: record claude.error_type`);
    if (k.status !== undefined) assert.equal(info.api_error_status, k.status, k.id);
    const cli = await d.cli(['result', k.id]);
    assert.equal(cli.code, 1, `${k.id}: ${cli.stderr}`);
    assert.match(cli.stderr, k.error, `${k.id}: the CLI prints the reason`);
    assert.doesNotMatch(cli.stderr, /failed: (success|error_)/, `${k.id}: the subtype is not the reason`);
    assert.equal(cli.stdout, '', `${k.id}: nothing on stdout for a failed run (the reason is on stderr)`);
    const json = JSON.parse((await d.cli(['result', k.id, '--json'])).stdout) as { error: string | null };
    assert.match(json.error ?? '', k.error, `${k.id}: --json carries the error`);
  }
});

test('CLI: claude --wait on a run that is not logged in prints why, and info shows the error', async () => {
  const run = await d.cli(['claude', 'MOCK_401 via the cli', '--wait', '--cwd', cwd, '--id', 'cli-401'], { timeoutMs: 60_000 });
  assert.equal(run.code, 1, run.stderr);
  assert.equal(run.stdout, '');
  assert.match(run.stderr, /^cli-401 failed: Invalid API key · Fix external API key \(authentication_failed, API error 401\)\n$/);
  const info = await d.cli(['info', 'cli-401']);
  assert.match(info.stdout, /^error: +Invalid API key · Fix external API key \(authentication_failed, API error 401\)$/m);
  assert.match(info.stdout, /^subtype: +success$/m);
});

test('a successful run has no error', async () => {
  await c.spawnClaude({ prompt: 'all good', cwd, process_id: 'ok-run' });
  const r = await c.claudeResult({ process_id: 'ok-run', wait: true, timeout_s: 60 });
  assert.equal(r.is_error, false);
  assert.equal(r.error, null);
  assert.equal(r.error_type, null);
  assert.equal(((await c.processInfo('ok-run')).claude as ClaudeRunInfo).error, null);
});

test('real claude retrying by itself: the record shows the retry live, list says so, and a recovered run is a success', async () => {
  const env = { CLAUDE_CODE_MAX_RETRIES: '1' };
  // The first attempt gets a 500; claude's retry then hangs at the mock, so the retry state stays.
  const [stuck, recovered] = await Promise.all([
    c.spawnClaude({ prompt: 'MOCK_500_ONCE MOCK_HANG retrying', cwd, env, process_id: 'retrying' }),
    c.spawnClaude({ prompt: 'MOCK_500_ONCE recovers', cwd, env, process_id: 'recovered' }),
  ]);
  const live = await waitFor(async () => ((await c.processInfo(stuck.process_id)).claude as ClaudeRunInfo).api_retry ?? undefined, { what: 'the retry to show', timeoutMs: 30_000 });
  assert.deepEqual({ ...live, retry_delay_ms: typeof live.retry_delay_ms }, { attempt: 1, max_retries: 1, error_status: 500, error: 'server_error', retry_delay_ms: 'number' });
  const list = await d.cli(['list']);
  assert.match(list.stdout, /^retrying .*working \(API retry 1\/1: server_error\)/m);
  const r = await c.claudeResult({ process_id: recovered.process_id, wait: true, timeout_s: 60 });
  assert.deepEqual({ is_error: r.is_error, error: r.error, result: r.result }, { is_error: false, error: null, result: 'MOCK REPLY: MOCK_500_ONCE recovers' });
  assert.equal(((await c.processInfo(recovered.process_id)).claude as ClaudeRunInfo).api_retry, null, 'cleared by the reply');
  assert.equal(mock.messagesMatching('MOCK_500_ONCE recovers').length, 2, 'one failed attempt, one retry');
  await c.killProcess({ process_id: stuck.process_id });
});
