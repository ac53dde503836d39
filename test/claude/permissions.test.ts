/**
 * Permission prompts routed to the parent (`spawn_claude {permissions: "ask"}`) with the REAL claude
 * CLI against the local mock API: a Bash call shows up in `pending_permissions`; answered allow it
 * runs, answered deny claude sees the denial, unanswered past `permission_timeout_s` it is denied
 * with a message saying so; an unknown request id is PERMISSION_NOT_FOUND.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import type { DaemonClient } from '../../src/index.js';
import type { ClaudeRunInfo, PendingPermission } from '../../src/protocol/schemas/claude.js';
import { ROOT, runCli, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { offlineClaudeEnv, startMockAnthropic, type MockAnthropic } from '../helpers/mock-anthropic.js';
import { waitFor } from '../helpers/wait.js';
import { allowMatch, denyMatch, ruleMatches } from '../../src/daemon/claude/permission-rules.js';
import { codeOf } from '../helpers/error-code.js';

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

async function infoOf(id: string): Promise<ClaudeRunInfo> {
  return (await c.processInfo(id)).claude as ClaudeRunInfo;
}

async function pendingOf(id: string): Promise<PendingPermission> {
  let found: PendingPermission | undefined;
  await waitFor(async () => (found = (await infoOf(id)).pending_permissions?.[0]) !== undefined, { timeoutMs: 60_000, what: `a pending permission of ${id}` });
  return found!;
}

/** Ends the session and waits for its process. */
async function close(id: string): Promise<void> {
  await c.closeInput({ process_id: id });
  const w = await c.waitProcess({ process_id: id, timeout_s: 60 });
  assert.equal(w.status, 'exited');
}

test('permissions ask: the Bash call is pending; answered allow it runs; an unknown request id is PERMISSION_NOT_FOUND', async () => {
  const marker = `${cwd}/allowed.txt`;
  const s = await c.spawnClaude({ prompt: `MOCK_TOOL:touch ${marker} && echo PERM_RAN|`, cwd, permissions: 'ask' });
  const id = s.process_id;
  assert.match(s.cmd.join(' '), /--input-format stream-json/);
  assert.match(s.cmd.join(' '), /--permission-prompt-tool stdio/);
  const p = await pendingOf(id);
  assert.equal(p.tool_name, 'Bash');
  assert.match(String(p.input['command']), /touch .*allowed\.txt/);
  assert.ok(!Number.isNaN(Date.parse(p.asked_at)));
  assert.equal(fs.existsSync(marker), false, 'the command waits for the answer');
  assert.equal(await codeOf(c.answerPermission({ process_id: id, request_id: 'no-such-request', behavior: 'allow' })), 'PERMISSION_NOT_FOUND');
  const a = await c.answerPermission({ process_id: id, request_id: p.request_id, behavior: 'allow' });
  assert.deepEqual(a, { process_id: id, request_id: p.request_id, tool_name: 'Bash', behavior: 'allow' });
  const r = await c.claudeResult({ process_id: id, turn: 1, wait: true, timeout_s: 90 });
  assert.equal(r.result, 'MOCK REPLY: tool said PERM_RAN');
  assert.equal(fs.existsSync(marker), true);
  assert.deepEqual((await infoOf(id)).pending_permissions, []);
  // Answered once: a second answer finds nothing.
  assert.equal(await codeOf(c.answerPermission({ process_id: id, request_id: p.request_id, behavior: 'deny' })), 'PERMISSION_NOT_FOUND');
  await close(id);
});

test('permissions ask: answered deny, claude sees the message and the command never runs', async () => {
  const marker = `${cwd}/denied.txt`;
  const s = await c.spawnClaude({ prompt: `MOCK_TOOL:touch ${marker} && echo PERM_RAN|`, cwd, permissions: 'ask' });
  const id = s.process_id;
  const p = await pendingOf(id);
  // Through the CLI verb: `answer ID REQUEST_ID deny --message M`.
  const cli = await runCli(['answer', id, p.request_id, 'deny', '--message', 'not today, says the parent', '--socket', d.socket]);
  assert.equal(cli.code, 0, cli.stderr);
  assert.equal(cli.stdout, `${id} Bash ${p.request_id}: denied\n`);
  const r = await c.claudeResult({ process_id: id, turn: 1, wait: true, timeout_s: 90 });
  assert.match(r.result ?? '', /MOCK REPLY: tool said .*not today, says the parent/);
  assert.equal(fs.existsSync(marker), false);
  await close(id);
});

test('permissions ask: unanswered past permission_timeout_s it is denied with a message saying so', async () => {
  const marker = `${cwd}/timeout.txt`;
  const s = await c.spawnClaude({ prompt: `MOCK_TOOL:touch ${marker} && echo PERM_RAN|`, cwd, permissions: 'ask', permission_timeout_s: 2 });
  const id = s.process_id;
  const p = await pendingOf(id);
  assert.equal((await infoOf(id)).permission_timeout_s, 2);
  const r = await c.claudeResult({ process_id: id, turn: 1, wait: true, timeout_s: 90 });
  assert.match(r.result ?? '', /no answer within 2 s \(permission_timeout_s\)/);
  assert.equal(fs.existsSync(marker), false);
  assert.deepEqual((await infoOf(id)).pending_permissions, []);
  assert.equal(await codeOf(c.answerPermission({ process_id: id, request_id: p.request_id, behavior: 'allow' })), 'PERMISSION_NOT_FOUND');
  await close(id);
});

test('answer_permission refuses a run without permissions ask (TS, CLI and Python clients), and bad spawn combinations', async () => {
  const s = await c.spawnClaude({ cwd, interactive: true });
  assert.equal(await codeOf(c.answerPermission({ process_id: s.process_id, request_id: 'x', behavior: 'allow' })), 'PERMISSION_NOT_FOUND');
  const cli = await runCli(['answer', s.process_id, 'x', 'allow', '--socket', d.socket]);
  assert.equal(cli.code, 1);
  assert.match(cli.stderr, /PERMISSION_NOT_FOUND|no pending permission prompt "x"/);
  assert.equal((await runCli(['answer', s.process_id, 'x', 'maybe', '--socket', d.socket])).code, 2);
  const py = `import sys\nsys.path.insert(0, ${JSON.stringify(path.join(ROOT, 'python'))})\nimport client\ntry:\n    client.answer_permission(${JSON.stringify(s.process_id)}, "x", "deny", message="m")\nexcept client.DaemonError as e:\n    print(e.code)`;
  const out = await promisify(execFile)('python3', ['-c', py], { env: { ...process.env, CLAUDE_DAEMON_SOCKET: d.socket } });
  assert.equal(out.stdout.trim(), 'PERMISSION_NOT_FOUND');
  await close(s.process_id);
  assert.equal(await codeOf(c.spawnClaude({ prompt: 'x', cwd, permissions: 'ask', interactive: false })), 'INVALID_PARAMS');
  assert.equal(await codeOf(c.spawnClaude({ prompt: 'x', cwd, permission_timeout_s: 5 })), 'INVALID_PARAMS');
});

test('permissions ask: auto_deny (checked first) and auto_allow answer matching prompts at once, none listed as pending', async () => {
  const allowed = `${cwd}/auto-allowed.txt`;
  const a = await c.spawnClaude({ prompt: `MOCK_TOOL:touch ${allowed} && echo AUTO_RAN|`, cwd, permissions: 'ask', auto_allow: ['Read', 'Bash(touch *)', 'Bash(echo *)'], auto_deny: ['Bash(rm *)'] });
  const ra = await c.claudeResult({ process_id: a.process_id, turn: 1, wait: true, timeout_s: 90 });
  assert.equal(ra.result, 'MOCK REPLY: tool said AUTO_RAN');
  assert.equal(fs.existsSync(allowed), true);
  assert.deepEqual((await infoOf(a.process_id)).pending_permissions, []);
  await close(a.process_id);
  const denied = `${cwd}/auto-denied.txt`;
  const b = await c.spawnClaude({ prompt: `MOCK_TOOL:touch ${denied} && echo AUTO_RAN|`, cwd, permissions: 'ask', auto_allow: ['Bash'], auto_deny: ['Bash(rm:*)', 'Bash(touch:*)'] });
  const rb = await c.claudeResult({ process_id: b.process_id, turn: 1, wait: true, timeout_s: 90 });
  assert.match(rb.result ?? '', /the auto_deny rule Bash\(touch:\*\) matches/);
  assert.equal(fs.existsSync(denied), false);
  await close(b.process_id);
  assert.equal(await codeOf(c.spawnClaude({ prompt: 'x', cwd, auto_allow: ['Bash'] })), 'INVALID_PARAMS');
  assert.equal(await codeOf(c.spawnClaude({ prompt: 'x', cwd, permissions: 'ask', auto_deny: ['Bash(git *'] })), 'INVALID_PARAMS');
});

test('permission rules: claude\'s syntax, matched against the tool\'s main input; compound Bash commands part by part', () => {
  const bash = (command: string): Record<string, unknown> => ({ command });
  assert.equal(ruleMatches('Bash', 'Bash', bash('anything')), true);
  assert.equal(ruleMatches('Bash(git *)', 'Bash', bash('git status')), true);
  assert.equal(ruleMatches('Bash(git *)', 'Bash', bash('gitk')), false);
  assert.equal(ruleMatches('Bash(npm run test:*)', 'Bash', bash('npm run test:unit')), false);
  assert.equal(ruleMatches('Bash(git:*)', 'Bash', bash('git')), true);
  assert.equal(ruleMatches('Bash(git:*)', 'Bash', bash('git push --force')), true);
  assert.equal(ruleMatches('Bash(git:*)', 'Bash', bash('gitx')), false);
  assert.equal(ruleMatches('Bash(git *)', 'Read', { file_path: 'git x' }), false);
  assert.equal(ruleMatches('Read(/etc/*)', 'Read', { file_path: '/etc/passwd' }), true);
  assert.equal(ruleMatches('Read(/etc/*)', 'Read', { file_path: '/home/x' }), false);
  assert.equal(ruleMatches('mcp__srv__*', 'mcp__srv__tool', {}), true);
  assert.equal(ruleMatches('Task(x)', 'Task', { prompt: 'x' }), false);
  assert.equal(ruleMatches('Bash(a.b)', 'Bash', bash('aXb')), false);
  // Compound commands: every part must be allowed; any part denied denies; substitutions and redirections are never auto-allowed.
  assert.equal(allowMatch(['Bash(git *)'], 'Bash', bash('git status && rm -rf x')), undefined);
  assert.equal(allowMatch(['Bash(git *)', 'Bash(echo *)'], 'Bash', bash('git status; echo done')), 'Bash(git *)');
  assert.equal(allowMatch(['Bash(git *)'], 'Bash', bash('git log $(rm -rf x)')), undefined);
  assert.equal(allowMatch(['Bash(echo *)'], 'Bash', bash('echo x > /etc/passwd')), undefined);
  assert.equal(allowMatch(['Bash'], 'Bash', bash('echo x > y')), 'Bash');
  assert.equal(allowMatch(['Read(/tmp/*)'], 'Read', { file_path: '/tmp/a' }), 'Read(/tmp/*)');
  assert.equal(denyMatch(['Bash(rm *)'], 'Bash', bash('git status && rm -rf x')), 'Bash(rm *)');
  assert.equal(denyMatch(['Bash(rm *)'], 'Bash', bash('git status | less')), undefined);
  assert.equal(denyMatch(undefined, 'Bash', bash('rm x')), undefined);
});

test('permissions ask: a prompt pending across a daemon SIGKILL stays pending (same asked_at), answered ones are not asked again, and the answer still reaches claude', async () => {
  const marker = `${cwd}/restart.txt`;
  const s = await c.spawnClaude({ prompt: `MOCK_TOOL:touch ${marker} && echo RESTART_RAN|`, cwd, permissions: 'ask', permission_timeout_s: 600 });
  const id = s.process_id;
  const p = await pendingOf(id);
  await d.kill('SIGKILL');
  await d.restart();
  c = await d.client();
  const again = await pendingOf(id);
  assert.deepEqual(again, p);
  assert.equal((await infoOf(id)).permission_timeout_s, 600);
  await c.answerPermission({ process_id: id, request_id: p.request_id, behavior: 'allow' });
  const r = await c.claudeResult({ process_id: id, turn: 1, wait: true, timeout_s: 90 });
  assert.equal(r.result, 'MOCK REPLY: tool said RESTART_RAN');
  // A second restart re-reads the whole stream: the answered prompt is not listed again.
  await d.kill('SIGKILL');
  await d.restart();
  c = await d.client();
  await c.claudeResult({ process_id: id, turn: 1, wait: true, timeout_s: 90 });
  assert.deepEqual((await infoOf(id)).pending_permissions, []);
  await close(id);
});
