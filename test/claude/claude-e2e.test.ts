/**
 * End to end with the REAL claude CLI, through a real daemon, against the local mock API. Each real
 * run costs ~0.5 s and ~300 MB, so independent cases run concurrently inside one test, and the
 * file fails (never skips) when the CLI is not installed.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import type { DaemonClient } from '../../src/index.js';
import type { ClaudeRunInfo } from '../../src/protocol/schemas/claude.js';
import type { ProcessRecord } from '../../src/protocol/schemas/processes.js';
import type { TestDaemon } from '../helpers/daemon.js';
import type { MockAnthropic } from '../helpers/mock-anthropic.js';
import { startClaudeTestDaemon, stopClaudeTestDaemon } from '../helpers/claude-daemon.js';
import { waitFor } from '../helpers/wait.js';
import { codeOf } from '../helpers/error-code.js';

let mock: MockAnthropic;
let d: TestDaemon;
let c: DaemonClient;
let cwd: string;
before(async () => void ({ mock, d, c, cwd } = await startClaudeTestDaemon()));
after(() => stopClaudeTestDaemon({ d, mock }));

/** Pids of processes running the tool command `sleep 37.25`. */
function toolSleeps(): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ').trim() === 'sleep 37.25') out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const claudeOf = (r: ProcessRecord): ClaudeRunInfo => r.claude as ClaudeRunInfo;

test('real claude: result parsed, API 500 judged a failure, Bash tool round trip, resume, busy session refused', async () => {
  const [plain, failing, tool, slow] = await Promise.all([
    c.spawnClaude({ prompt: 'hello through the daemon', cwd, model: 'claude-e2e-model' }),
    c.spawnClaude({ prompt: 'MOCK_500 fail please', cwd }),
    c.spawnClaude({ prompt: 'MOCK_TOOL:echo e2e-tool-says-hi| run it', cwd, allowed_tools: ['Bash'] }),
    c.spawnClaude({ prompt: 'MOCK_SLOW:2500 remember this', cwd }),
  ]);
  assert.equal(plain.status, 'running');
  assert.equal(claudeOf(plain).state, 'starting');
  assert.deepEqual(plain.cmd.slice(1, 5), ['-p', '--output-format', 'stream-json', '--verbose']);

  // While the slow run streams, its record shows a live claude object and it holds its session.
  const live = await waitFor(async () => {
    const r = await c.processInfo(slow.process_id);
    return claudeOf(r).session_id !== null && claudeOf(r).state === 'working' ? r : undefined;
  }, { what: 'the slow run to report its session', timeoutMs: 20_000 });
  const sid = claudeOf(live).session_id!;
  assert.equal(
    await codeOf(c.spawnClaude({ prompt: 'second writer', cwd, resume: sid })),
    'SESSION_BUSY',
    'a second run on a live session is refused',
  );
  assert.equal((await c.listProcesses()).processes.length, 4, 'the refused run left no record');

  const wait = (p: ProcessRecord): ReturnType<DaemonClient['claudeResult']> => c.claudeResult({ process_id: p.process_id, wait: true, timeout_s: 60 });
  const [rPlain, rFail, rTool, rSlow] = await Promise.all([wait(plain), wait(failing), wait(tool), wait(slow)]);
  assert.deepEqual(
    { result: rPlain.result, is_error: rPlain.is_error, subtype: rPlain.subtype, running: rPlain.running, state: rPlain.state },
    { result: 'MOCK REPLY: hello through the daemon', is_error: false, subtype: 'success', running: false, state: 'done' },
  );
  assert.equal(rFail.is_error, true, 'the 500 is a failure even though claude says subtype success');
  assert.equal(rFail.api_error_status, 500);
  assert.match(rFail.result ?? '', /API Error: 500/);
  assert.equal(rTool.result, 'MOCK REPLY: tool said e2e-tool-says-hi');
  assert.equal(rTool.is_error, false);
  assert.equal(rSlow.result, 'MOCK REPLY: MOCK_SLOW:2500 remember this');

  const info = await c.processInfo(plain.process_id);
  const ci = claudeOf(info);
  assert.equal(info.status, 'exited');
  assert.equal(info.exit_code, 0);
  assert.equal(ci.model, 'claude-e2e-model');
  assert.equal(ci.num_turns, 1);
  assert.equal(ci.last_text, 'MOCK REPLY: hello through the daemon');
  assert.ok((ci.total_cost_usd ?? 0) > 0);
  assert.ok((ci.duration_ms ?? 0) > 0);
  assert.equal(typeof ci.usage?.['output_tokens'], 'number');
  const failInfo = await c.processInfo(failing.process_id);
  assert.equal(failInfo.exit_code, 1);
  assert.equal(claudeOf(failInfo).api_error_status, 500);
  assert.equal(claudeOf(await c.processInfo(tool.process_id)).num_turns, 2);

  // list_processes sums the cost of every claude run.
  const list = await c.listProcesses();
  const sum = list.processes.reduce((s, p) => s + (claudeOf(p).total_cost_usd ?? 0), 0);
  assert.ok(Math.abs((list.totals['total_cost_usd'] ?? -1) - sum) < 1e-9);
  assert.ok(sum > 0);

  // The session is free again: resume it and see the earlier turn in the request.
  const resumed = await c.spawnClaude({ prompt: 'MOCK_RECALL what did I say', cwd, resume: sid, process_id: 'resumed-run' });
  const rResumed = await c.claudeResult({ process_id: resumed.process_id, wait: true, timeout_s: 60 });
  assert.equal(rResumed.session_id, sid, 'resume continues the same session');
  assert.equal(rResumed.result, 'MOCK REPLY: recall 2 user turns');
  const req = mock.messagesMatching('MOCK_RECALL what did I say')[0];
  assert.ok(JSON.stringify(req?.body?.messages).includes('remember this'), 'the resumed request carries the first turn');
});

test('real claude: kill mid-stream sends SIGINT first (claude exits by itself, a failure verdict) and reaches tool shells; a stall is caught and stopped', async () => {
  const [hang, stall, shell] = await Promise.all([
    c.spawnClaude({ prompt: 'MOCK_HANG to be killed', cwd }),
    c.spawnClaude({ prompt: 'MOCK_HANG to stall', cwd, stall_timeout_s: 2 }),
    c.spawnClaude({ prompt: 'MOCK_TOOL:sleep 37.25| a long tool call', cwd, allowed_tools: ['Bash'] }),
  ]);
  // A Bash tool shell (claude starts it in its own session) is running: the kill must reach it.
  await waitFor(() => toolSleeps().length > 0, { what: 'the Bash tool to run sleep 37.25', timeoutMs: 30_000 });
  const killedShell = await c.killProcess({ process_id: shell.process_id });
  assert.equal(claudeOf(killedShell).is_error, true);
  await waitFor(() => toolSleeps().length === 0, { what: 'the tool shell to be gone', timeoutMs: 10_000 });
  // Mid-stream: the request is hanging at the mock and claude has printed its init line.
  await waitFor(() => mock.messagesMatching('MOCK_HANG to be killed').length === 1, { what: 'the hanging request', timeoutMs: 20_000 });
  await waitFor(async () => claudeOf(await c.processInfo(hang.process_id)).state === 'working', { what: 'the run to be working' });
  // A long grace: if SIGINT did not end it, the SIGTERM step (exit 143) would come only after 30 s.
  const t0 = Date.now();
  const killed = await c.killProcess({ process_id: hang.process_id, grace_s: 30 });
  const took = Date.now() - t0;
  const k = claudeOf(killed);
  assert.equal(killed.status, 'exited', 'SIGINT: claude exits by itself (SIGTERM would give 143 or a signal)');
  assert.ok(killed.exit_code === 0 || killed.exit_code === 1, `exit code ${killed.exit_code}`);
  assert.ok(took < 25_000, `SIGINT ended it without waiting for the SIGTERM step (${took} ms)`);
  // claude answers SIGINT with an error_during_execution result line, except (seen about 1 run in
  // 30 here) when it exits 0 with no result line at all: either way the verdict is a failure.
  assert.ok(k.subtype === 'error_during_execution' || (k.subtype === null && k.result === null), `subtype ${k.subtype}`);
  assert.equal(k.is_error, true, `a killed run is a failure whatever its exit code (${killed.exit_code})`);
  assert.equal(k.state, 'done');
  assert.match(k.error ?? '', /stopped by the daemon: kill_process \(SIGINT\)$/, 'the reason names the kill, not claude\'s diagnostic');

  const stalled = await c.waitProcess({ process_id: stall.process_id, timeout_s: 30 });
  assert.equal(stalled.timed_out, undefined);
  const s = claudeOf(stalled);
  assert.equal(s.state, 'stalled');
  assert.equal(s.is_error, true);
  assert.match(s.error ?? '', /stopped by the daemon: stalled: no stream event for 2 s/);
  assert.match(stalled.reason ?? '', /stalled/);
  const r = await c.claudeResult({ process_id: stall.process_id });
  assert.equal(r.state, 'stalled');
  assert.equal(r.is_error, true);
});

test('CLI: claude --wait prints the result, result ID re-reads it, list shows cost and state', async () => {
  const run = await d.cli(['claude', 'hello from the cli', '--wait', '--cwd', cwd, '--id', 'cli-run'], { timeoutMs: 60_000 });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'MOCK REPLY: hello from the cli\n');
  const again = await d.cli(['result', 'cli-run']);
  assert.equal(again.code, 0);
  assert.equal(again.stdout, 'MOCK REPLY: hello from the cli\n');
  const json = JSON.parse((await d.cli(['result', 'cli-run', '--json'])).stdout) as { is_error: boolean; session_id: string };
  assert.equal(json.is_error, false);
  assert.match(json.session_id, /^[0-9a-f-]{36}$/);
  const list = await d.cli(['list']);
  assert.equal(list.code, 0, list.stderr);
  const line = list.stdout.split('\n').find((l) => l.startsWith('cli-run'));
  assert.ok(line, list.stdout);
  assert.match(line, /\$0\.\d+/, 'cost shown');
  assert.match(line, /done/, 'claude state shown');
  const bad = await d.cli(['result', 'no-such-run']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /PROCESS_NOT_FOUND/);
});
