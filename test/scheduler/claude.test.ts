/**
 * The scheduler with real claude runs (the real CLI against the mock API): spawn_claude takes the
 * scheduling parameters, a claude run waits for its dependency, and a claude dependency whose
 * verdict is a failure skips its dependants although claude may exit 0.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { DaemonClient } from '../../src/index.js';
import type { TestDaemon } from '../helpers/daemon.js';
import type { MockAnthropic } from '../helpers/mock-anthropic.js';
import { startClaudeTestDaemon, stopClaudeTestDaemon } from '../helpers/claude-daemon.js';
import { fx } from '../processes/util.js';

let mock: MockAnthropic;
let d: TestDaemon;
let c: DaemonClient;
let cwd: string;
before(async () => void ({ mock, d, c, cwd } = await startClaudeTestDaemon()));
after(() => stopClaudeTestDaemon({ d, mock }));

test('spawn_claude: group, priority and after hold a real claude run; a failed claude verdict skips its dependants', async () => {
  const flag = path.join(d.dir, 'claude-go');
  await c.spawnProcess({ cmd: [fx('wait-file.sh'), flag], process_id: 'cl-dep' });
  const run = await c.spawnClaude({ prompt: 'hello after the dep', cwd, process_id: 'cl-run', group: 'claude-g', priority: 2, after: ['cl-dep'] });
  assert.equal(run.status, 'queued');
  assert.equal(run.group, 'claude-g');
  assert.equal(run.priority, 2);
  assert.equal(run.held, 'waiting for cl-dep');
  await assert.rejects(c.spawnClaude({ prompt: 'x', cwd, after: ['nobody'] }), { code: 'UNKNOWN_DEPENDENCY' });
  fs.writeFileSync(flag, '');
  const done = await c.claudeResult({ process_id: 'cl-run', wait: true, timeout_s: 60 });
  assert.equal(done.is_error, false);
  const rec = await c.processInfo('cl-run');
  const dep = await c.processInfo('cl-dep');
  assert.ok(Date.parse(rec.started_at!) >= Date.parse(dep.ended_at!));
  // A run the API fails (claude's verdict is_error) is no success for its dependants.
  await c.spawnClaude({ prompt: 'MOCK_500 fail please', cwd, process_id: 'cl-fail' });
  const after500 = await c.spawnProcess({ cmd: ['true'], process_id: 'cl-after-fail', after: ['cl-fail'] });
  assert.equal(after500.status, 'queued');
  const skipped = await c.waitProcess({ process_id: 'cl-after-fail', timeout_s: 120 });
  assert.equal(skipped.status, 'skipped');
  assert.match(skipped.reason ?? '', /cl-fail did not succeed/);
});
