/**
 * Fan-out with the REAL claude CLI: 8 runs against a daemon started with `--max-running 4`. Half
 * are queued, at most 4 run at once, and every run gets its own result (no crossed streams).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { DaemonClient } from '../../src/index.js';
import type { ClaudeRunInfo } from '../../src/protocol/schemas/claude.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { offlineClaudeEnv, startMockAnthropic, type MockAnthropic } from '../helpers/mock-anthropic.js';

let mock: MockAnthropic;
let d: TestDaemon;
let c: DaemonClient;
before(async () => {
  mock = await startMockAnthropic();
  d = await startTestDaemon({ env: offlineClaudeEnv(mock), args: ['--max-running', '4'] });
  c = await d.client();
});
after(async () => {
  await d?.stop();
  await mock?.close();
});

test('8 real claude runs with --max-running 4: 4 queued, never more than 4 at once, each its own result', async () => {
  const recs = [];
  for (let i = 0; i < 8; i++) recs.push(await c.spawnClaude({ prompt: `MOCK_SLOW:300 fan-out run ${i}`, cwd: d.dir, process_id: `fan-${i}` }));
  assert.deepEqual(
    recs.map((r) => r.status),
    ['running', 'running', 'running', 'running', 'queued', 'queued', 'queued', 'queued'],
  );
  assert.equal((recs[5]!.claude as ClaudeRunInfo).state, 'starting');

  let maxRunning = 0;
  const sampler = setInterval(() => {
    void c.listProcesses({ status: 'running' }).then((l) => (maxRunning = Math.max(maxRunning, l.processes.length)), () => undefined);
  }, 50);
  const results = await Promise.all(recs.map((r) => c.claudeResult({ process_id: r.process_id, wait: true, timeout_s: 120 })));
  clearInterval(sampler);

  results.forEach((r, i) => {
    assert.equal(r.result, `MOCK REPLY: MOCK_SLOW:300 fan-out run ${i}`, `run ${i}`);
    assert.equal(r.is_error, false);
  });
  assert.equal(new Set(results.map((r) => r.session_id)).size, 8, 'eight distinct sessions');
  assert.ok(maxRunning <= 4, `at most 4 ran at once (saw ${maxRunning})`);
  const list = await c.listProcesses();
  assert.equal(list.totals['exited'], 8);
  const sum = list.processes.reduce((s, p) => s + ((p.claude as ClaudeRunInfo).total_cost_usd ?? 0), 0);
  assert.ok(sum > 0 && Math.abs((list.totals['total_cost_usd'] ?? 0) - sum) < 1e-9);
});
