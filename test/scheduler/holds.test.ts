/**
 * Usage limits with the real CLI against the mock's unified rate-limit headers (subscription auth):
 * a run that hits the limit is re-queued to resume its session once the limit resets, every queued
 * claude run is held meanwhile (ping/list/group_list say until when), runs start ramped after the
 * reset, `ignore_hold` starts at once, and the hold survives a daemon SIGKILL.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { resumeArgv } from '../../src/daemon/claude/limit-resume.js';
import type { ClaudeRunInfo } from '../../src/protocol/schemas/claude.js';
import type { ProcessRecord } from '../../src/protocol/schemas/processes.js';
import { startTestDaemon } from '../helpers/daemon.js';
import { startMockAnthropic, subscriptionClaudeEnv } from '../helpers/mock-anthropic.js';
import { waitFor } from '../helpers/wait.js';

const HELD = /^claude runs held until \d\d:\d\d UTC \(five_hour limit\)$/;

test('resumeArgv: the spawn_claude command line resumes the session with the continue prompt; --resume/--session-id dropped; another shape is left alone', () => {
  const cmd = ['/bin/claude', '-p', '--output-format', 'stream-json', '--verbose', '--model', 'm', '--session-id', 'old', '--resume', 'older', '--', '-a prompt'];
  assert.deepEqual(resumeArgv(cmd, 'S1', 'go on'), ['/bin/claude', '-p', '--output-format', 'stream-json', '--verbose', '--model', 'm', '--resume', 'S1', '--', 'go on']);
  assert.equal(resumeArgv(['claude', '-p', 'hi'], 'S1', 'go on'), undefined);
});

test('usage limit: 5 claude runs at --max-running 2 hit the limit, are held until the reset, resume their session once, start ramped; ignore_hold starts during the hold; non-claude runs are not held', async () => {
  const mock = await startMockAnthropic();
  const d = await startTestDaemon({ args: ['--max-running', '2'], env: subscriptionClaudeEnv(mock) });
  try {
    const c = await d.client();
    const resetsAt = Math.ceil(Date.now() / 1000) + 8;
    mock.setUsageLimit({ rejectUntilMs: resetsAt * 1000, resetsAt });
    const ids = [1, 2, 3, 4, 5].map((i) => `h-${i}`);
    for (const [i, id] of ids.entries()) await c.spawnClaude({ prompt: `holds task ${i + 1}`, process_id: id, limit_resume_prompt: `continue holds ${i + 1}` });
    // The first two hit the limit; the daemon holds everything claude.
    const ping = await waitFor(async () => {
      const p = await c.ping();
      return p.claude_hold?.reason != null && HELD.test(p.claude_hold.reason) ? p : undefined;
    }, { timeoutMs: 90_000, what: 'the hold in ping' });
    const until = Date.parse(ping.claude_hold!.until!);
    assert.ok(until >= resetsAt * 1000 && until < resetsAt * 1000 + 31_000, `until ${ping.claude_hold!.until}`);
    // A waiter on a run that hit the limit does not return at that end.
    const waiting = c.waitProcess({ process_id: 'h-1', timeout_s: 240 });
    const listed = await waitFor(async () => {
      const l = await c.listProcesses({ status: 'queued' });
      return l.processes.length >= 3 && l.processes.every((r) => HELD.test(r.held ?? '')) ? l : undefined;
    }, { timeoutMs: 60_000, what: 'held reasons in list' });
    assert.ok(listed.processes.length >= 3);
    const groups = await c.groupList();
    assert.match(groups.groups.find((g) => g.group === 'default')?.held ?? '', HELD);
    const cli = await d.cli(['ping']);
    assert.match(cli.stdout, /claude runs held until \d\d:\d\d UTC \(five_hour limit\)/);
    // Non-claude records are not held; ignore_hold starts at once.
    await c.spawnProcess({ cmd: ['true'], process_id: 'plain' });
    assert.equal((await c.waitProcess({ process_id: 'plain', timeout_s: 60 })).status, 'exited');
    await c.spawnClaude({ prompt: 'holds task urgent', process_id: 'h-urgent', ignore_hold: true, limit_resume_prompt: 'continue holds urgent' });
    await waitFor(async () => (await c.waitProcess({ process_id: 'h-urgent', timeout_s: 0.01 })).started_at !== null || (await c.listProcesses()).processes.find((r) => r.process_id === 'h-urgent')?.limit_resumes === 1, { timeoutMs: 60_000, what: 'urgent run started' });
    assert.ok(Date.now() < until, 'the urgent run started during the hold');

    const first = await waiting;
    assert.equal(first.status, 'exited');
    // Answered at the final end, not at the limit: the resumed attempt's verdict.
    assert.equal(first.limit_resumes, 1);
    assert.equal((first.claude as unknown as ClaudeRunInfo).is_error, false);
    const all: ProcessRecord[] = [];
    for (const id of [...ids, 'h-urgent']) all.push(await c.waitProcess({ process_id: id, timeout_s: 240 }));
    for (const r of all) {
      const info = r.claude as unknown as ClaudeRunInfo;
      assert.equal(r.status, 'exited', JSON.stringify(r));
      assert.equal(r.exit_code, 0, JSON.stringify(r));
      assert.equal(info.is_error, false, JSON.stringify(info));
      assert.ok((r.limit_resumes ?? 0) <= 1, `${r.process_id} resumed ${r.limit_resumes} times`);
      const n = r.process_id === 'h-urgent' ? 'urgent' : r.process_id.slice(2);
      // One request per attempt at most: the original prompt once, the resumption's prompt once.
      assert.equal(mock.messagesMatching(`holds task ${n}`).length, 1, `${r.process_id}: requests of its prompt`);
      assert.equal(mock.messagesMatching(`continue holds ${n}`).length, r.limit_resumes ?? 0, `${r.process_id}: requests of its resumption`);
      if (r.limit_resumes === 1) {
        const attempt = r.limit_attempts![0] as unknown as ClaudeRunInfo;
        assert.equal(attempt.usage_limit?.limit_type, 'five_hour');
        assert.ok(r.cmd.includes('--resume') && r.cmd.at(-1) === `continue holds ${n}`, r.cmd.join(' '));
        assert.equal(r.cmd[r.cmd.indexOf('--resume') + 1], attempt.session_id);
      }
      // Nothing claude started between the limit and the hold's end, except the urgent run.
      if (r.process_id !== 'h-urgent') assert.ok(Date.parse(r.started_at!) >= until - 5, `${r.process_id} started at ${r.started_at}, the hold ended ${new Date(until).toISOString()}`);
    }
    assert.ok(all.filter((r) => r.limit_resumes === 1).length >= 2, 'the two running at the limit were resumed');
    const timeline = all.map((r) => `${r.process_id} ${r.started_at} .. ${r.ended_at} resumes ${r.limit_resumes ?? 0}`).join('\n');
    if (process.env['HOLDS_DEBUG'] === '1') console.log(`hold until ${new Date(until).toISOString()}\n${timeline}`);
    // Ramped: after the reset one starts; the next only once it succeeded.
    const after = all.filter((r) => r.process_id !== 'h-urgent').sort((a, b) => Date.parse(a.started_at!) - Date.parse(b.started_at!));
    assert.ok(Date.parse(after[1]!.started_at!) >= Date.parse(after[0]!.ended_at!) - 5, `second start ${after[1]!.started_at} before the first end ${after[0]!.ended_at}`);
    assert.equal((await c.ping()).claude_hold?.until, null);
    const log = fs.readFileSync(path.join(d.home, 'daemon.log'), 'utf8');
    assert.match(log, /usage hold: claude runs held until/);
    assert.match(log, /usage hold ended/);
  } finally {
    await d.stop({ killProcesses: true });
    await mock.close();
  }
});

test('usage limit: the hold survives a daemon SIGKILL and ends at its time; the resumed run and a held one then succeed', async () => {
  const mock = await startMockAnthropic();
  const d = await startTestDaemon({ env: subscriptionClaudeEnv(mock) });
  try {
    let c = await d.client();
    const resetsAt = Math.ceil(Date.now() / 1000) + 10;
    mock.setUsageLimit({ rejectUntilMs: resetsAt * 1000, resetsAt });
    await c.spawnClaude({ prompt: 'kill hold one', process_id: 'k-1' });
    const before = await waitFor(async () => {
      const p = await c.ping();
      return p.claude_hold?.until != null ? p.claude_hold : undefined;
    }, { timeoutMs: 90_000, what: 'the hold' });
    await c.spawnClaude({ prompt: 'kill hold two', process_id: 'k-2' });
    assert.match((await c.listProcesses({ status: 'queued' })).processes.find((r) => r.process_id === 'k-2')?.held ?? '', HELD);
    await d.kill('SIGKILL');
    await d.restart();
    c = await d.client();
    const afterRestart = (await c.ping()).claude_hold;
    if (Date.now() < Date.parse(before.until!)) {
      assert.equal(afterRestart?.until, before.until);
      assert.match(afterRestart?.reason ?? '', HELD);
    }
    const until = Date.parse(before.until!);
    for (const id of ['k-1', 'k-2']) {
      const r = await c.waitProcess({ process_id: id, timeout_s: 240 });
      assert.equal(r.status, 'exited', JSON.stringify(r));
      assert.equal((r.claude as unknown as ClaudeRunInfo).is_error, false, JSON.stringify(r.claude));
      assert.ok(Date.parse(r.started_at!) >= until - 5, `${id} started ${r.started_at} before the hold's end ${before.until}`);
    }
    assert.equal((await c.waitProcess({ process_id: 'k-1' })).limit_resumes, 1);
  } finally {
    await d.stop({ killProcesses: true });
    await mock.close();
  }
});

test('usage limit: a broken usage-hold.json is quarantined and the daemon starts without a hold', async () => {
  const d = await startTestDaemon();
  try {
    await d.stop();
    fs.writeFileSync(path.join(d.home, 'usage-hold.json'), '{"version":1,"until":"soon"');
    await d.restart();
    const c = await d.client();
    assert.equal((await c.ping()).claude_hold?.reason, null);
    assert.equal(fs.existsSync(path.join(d.home, 'usage-hold.json')), false);
    assert.ok(fs.readdirSync(path.join(d.home, 'corrupt')).some((f) => f.startsWith('usage-hold.json')));
  } finally {
    await d.stop();
  }
});

test('usage limit: --hold-at-utilization holds claude runs once a run reports that utilisation, until its reset', async () => {
  const mock = await startMockAnthropic();
  const d = await startTestDaemon({ args: ['--hold-at-utilization', '0.4'], env: subscriptionClaudeEnv(mock) });
  try {
    const c = await d.client();
    const resetsAt = Math.ceil(Date.now() / 1000) + 6;
    mock.setUsageLimit({ rejectUntilMs: Date.now() - 1, resetsAt, utilization: 0.5, surpassedThreshold: 0.4 });
    await c.spawnClaude({ prompt: 'util one', process_id: 'u-1' });
    const one = await c.waitProcess({ process_id: 'u-1', timeout_s: 120 });
    const rl = (one.claude as unknown as ClaudeRunInfo).rate_limit;
    assert.equal(rl?.utilization, 0.5, JSON.stringify(rl));
    const hold = (await c.ping()).claude_hold;
    assert.equal(hold?.cause, 'utilization');
    assert.match(hold?.reason ?? '', /^claude runs held until \d\d:\d\d UTC \(five_hour utilisation at or above hold_at_utilization 0.4\)$/);
    await c.spawnClaude({ prompt: 'util two', process_id: 'u-2' });
    const two = await c.waitProcess({ process_id: 'u-2', timeout_s: 120 });
    assert.equal(two.status, 'exited');
    assert.ok(Date.parse(two.started_at!) >= resetsAt * 1000 - 5, `started ${two.started_at} before the reset`);
  } finally {
    await d.stop({ killProcesses: true });
    await mock.close();
  }
});
