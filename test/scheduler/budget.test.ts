/**
 * Spending budgets with real claude runs (the real CLI against the mock API; every mock reply costs
 * the same small amount under the CLI's pricing, measured here by a probe run): a group's
 * `budget_usd` and the daemon's `--budget-usd` hold queued claude runs once the reported spend
 * reaches them, each run starts with `--max-budget-usd` at what is left, raising the budget
 * releases them, and the spend (removed records' included) survives a SIGKILL and `clean`.
 * Non-claude records are never held by a budget.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import type { DaemonClient } from '../../src/index.js';
import type { ProcessRecord } from '../../src/protocol/schemas/processes.js';
import { capBudgetArgv } from '../../src/daemon/claude/argv.js';
import { ROOT, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { offlineClaudeEnv, startMockAnthropic, type MockAnthropic } from '../helpers/mock-anthropic.js';
import { waitFor } from '../helpers/wait.js';

const BUDGET_RE = /^budget: \$[\d.]+ of \$[\d.]+ spent \((group \S+|daemon, --budget-usd)\)$/;
/** Tolerance for dollar amounts: the flag is floored to 1e-8, sums are floats. */
const EPS = 1e-7;

let mock: MockAnthropic;
let d: TestDaemon;
let c: DaemonClient;
let cwd: string;
let costPromise: Promise<number> | undefined;

before(async () => {
  mock = await startMockAnthropic();
  d = await startTestDaemon({ args: ['--max-running', '1'], env: offlineClaudeEnv(mock) });
  c = await d.client();
  cwd = `${d.dir}/work`;
  fs.mkdirSync(cwd);
});
after(async () => {
  await d?.stop({ killProcesses: true });
  await mock?.close();
});

/** What one default mock reply costs (a probe run in group `probe`, no budget), measured once. */
function runCost(): Promise<number> {
  costPromise ??= (async () => {
    await c.spawnClaude({ prompt: 'budget run probe', cwd, process_id: 'probe', group: 'probe' });
    const r = await c.claudeResult({ process_id: 'probe', wait: true, timeout_s: 120 });
    assert.equal(r.is_error, false);
    const cost = (await c.processInfo('probe')).claude?.['total_cost_usd'];
    assert.ok(typeof cost === 'number' && cost > 0, `probe cost ${String(cost)}`);
    return cost;
  })();
  return costPromise;
}

/** The `--max-budget-usd` value of a record's command line, or undefined. */
function capOf(rec: ProcessRecord): number | undefined {
  const i = rec.cmd.indexOf('--max-budget-usd');
  return i === -1 ? undefined : Number(rec.cmd[i + 1]);
}

function costOf(rec: ProcessRecord): number {
  const v = rec.claude?.['total_cost_usd'];
  return typeof v === 'number' ? v : 0;
}

async function infos(client: DaemonClient, ids: string[]): Promise<ProcessRecord[]> {
  return Promise.all(ids.map((id) => client.processInfo(id)));
}

/** Checks every started run's cap: the budget minus what ended before it started (one runs at a time). */
function assertCaps(started: ProcessRecord[], budget: number, spentBefore: number): number {
  let spent = spentBefore;
  for (const r of [...started].sort((a, b) => Date.parse(a.started_at!) - Date.parse(b.started_at!))) {
    const cap = capOf(r);
    assert.ok(cap !== undefined, `${r.process_id} started without --max-budget-usd: ${r.cmd.join(' ')}`);
    assert.ok(Math.abs(cap - (budget - spent)) < EPS, `${r.process_id}: --max-budget-usd ${cap}, expected ${budget - spent}`);
    spent += costOf(r);
  }
  return spent;
}

test('budget: a group budget holds its queued claude runs once spent, caps each with --max-budget-usd, persists over SIGKILL and clean, and raising it releases them', async () => {
  const cost = await runCost();
  const budget = 2.5 * cost;
  const set = await c.groupSet({ group: 'b', budget_usd: budget });
  assert.equal(set.budget_usd, budget);
  assert.equal(set.spent_usd, 0);
  const ids = ['b1', 'b2', 'b3', 'b4', 'b5', 'b6'];
  for (const id of ids) await c.spawnClaude({ prompt: 'budget run probe', cwd, process_id: id, group: 'b' });
  // Queued behind the claude runs in the same group: never held by the budget.
  await c.spawnProcess({ cmd: ['true'], process_id: 'b-plain', group: 'b' });
  const held = await waitFor(
    async () => {
      const rs = await infos(c, ids);
      const ended = rs.filter((r) => r.status !== 'queued' && r.status !== 'running');
      const queued = rs.filter((r) => r.status === 'queued');
      const plain = await c.processInfo('b-plain');
      return ended.length === 3 && queued.length === 3 && queued.every((r) => BUDGET_RE.test(r.held ?? '')) && plain.status === 'exited' ? { ended, queued } : undefined;
    },
    { timeoutMs: 180_000, what: '3 runs to end and 3 to be held by the budget' },
  );
  assert.deepEqual(held.ended.map((r) => r.process_id).sort(), ['b1', 'b2', 'b3']);
  assert.match(held.queued[0]!.held!, /\(group b\)$/);
  const spent = assertCaps(held.ended, budget, 0);
  assert.ok(spent >= budget - EPS);
  const g = (await c.groupList()).groups.find((x) => x.group === 'b')!;
  assert.ok(Math.abs(g.spent_usd - spent) < EPS, `group_list spent ${g.spent_usd}, records ${spent}`);
  assert.equal(g.budget_usd, budget);
  assert.equal(g.queued, 3);
  assert.match(g.held ?? '', BUDGET_RE);
  // Nothing runs now, and nothing starts: the held runs wait for the budget, not for a slot.
  assert.equal((await c.listProcesses({ status: 'running' })).processes.length, 0);

  // The spend and the hold survive a SIGKILL (records persist, and so does the budget).
  await d.kill('SIGKILL');
  await d.restart();
  c = await d.client();
  for (const r of await infos(c, ['b4', 'b5', 'b6'])) {
    assert.equal(r.status, 'queued');
    assert.match(r.held ?? '', BUDGET_RE);
  }
  const g2 = (await c.groupList()).groups.find((x) => x.group === 'b')!;
  assert.ok(Math.abs(g2.spent_usd - spent) < EPS);

  // clean removes the ended runs; their spend stays with the group (spent_removed_usd), across a restart too.
  const cleaned = await c.clean({ group: 'b' });
  assert.ok(cleaned.process_ids.includes('b1'));
  assert.ok(Math.abs((await c.groupList()).groups.find((x) => x.group === 'b')!.spent_usd - spent) < EPS);
  await d.kill('SIGKILL');
  await d.restart();
  c = await d.client();
  assert.ok(Math.abs((await c.groupList()).groups.find((x) => x.group === 'b')!.spent_usd - spent) < EPS);
  assert.match((await c.processInfo('b4')).held ?? '', BUDGET_RE);

  // Raised by 1.5 runs: two more start (capped at what is left), the last stays held.
  const raised = spent + 1.5 * cost;
  await c.groupSet({ group: 'b', budget_usd: raised });
  const second = await waitFor(
    async () => {
      const rs = await infos(c, ['b4', 'b5', 'b6']);
      const ended = rs.filter((r) => r.status !== 'queued' && r.status !== 'running');
      return ended.length === 2 && rs[2]!.status === 'queued' && BUDGET_RE.test(rs[2]!.held ?? '') ? ended : undefined;
    },
    { timeoutMs: 180_000, what: 'b4 and b5 to run, b6 to stay held' },
  );
  assert.deepEqual(second.map((r) => r.process_id), ['b4', 'b5']);
  assertCaps(second, raised, spent);

  // Cleared (null): the last one starts, with no cap added.
  await c.groupSet({ group: 'b', budget_usd: null });
  const last = await c.waitProcess({ process_id: 'b6', timeout_s: 120 });
  assert.equal(last.status, 'exited');
  assert.equal(capOf(last), undefined);
});

test('budget: the daemon-wide --budget-usd holds claude runs of every group, shows in ping, never holds other processes', async () => {
  const cost = await runCost();
  const budget = 1.5 * cost;
  const dd = await startTestDaemon({ args: ['--max-running', '1', '--budget-usd', String(budget)], env: offlineClaudeEnv(mock) });
  try {
    const cc = await dd.client();
    const ids = ['w1', 'w2', 'w3'];
    for (const [i, id] of ids.entries()) await cc.spawnClaude({ prompt: 'budget run probe', cwd, process_id: id, group: `g${i}` });
    const ended = await waitFor(
      async () => {
        const rs = await infos(cc, ids);
        const done = rs.filter((r) => r.status !== 'queued' && r.status !== 'running');
        return done.length === 2 && rs[2]!.status === 'queued' && /\(daemon, --budget-usd\)$/.test(rs[2]!.held ?? '') ? done : undefined;
      },
      { timeoutMs: 180_000, what: 'two runs to end and the third to be held by the daemon budget' },
    );
    const spent = assertCaps(ended, budget, 0);
    const ping = await cc.ping();
    assert.equal(ping.budget?.budget_usd, budget);
    assert.ok(Math.abs((ping.budget?.spent_usd ?? 0) - spent) < EPS);
    // A plain process starts at once although the budget is spent.
    const plain = await cc.spawnProcess({ cmd: ['true'], group: 'g2' });
    assert.equal(plain.status, 'running');
    assert.equal((await cc.waitProcess({ process_id: plain.process_id, timeout_s: 30 })).status, 'exited');
    assert.equal((await cc.processInfo('w3')).status, 'queued');
    // A claude run spawned now is queued at once, with the reason.
    const late = await cc.spawnClaude({ prompt: 'budget run probe', cwd, group: 'g9' });
    assert.equal(late.status, 'queued');
    assert.match(late.held ?? '', /^budget: .*\(daemon, --budget-usd\)$/);
  } finally {
    await dd.stop({ killProcesses: true });
  }
});

test('budget: capBudgetArgv adds --max-budget-usd after the binary, keeps a smaller own value, lowers a larger one', () => {
  const a = ['claude', '-p', '--', 'hi'];
  capBudgetArgv(a, 0.123456789);
  assert.deepEqual(a, ['claude', '--max-budget-usd', '0.12345678', '-p', '--', 'hi']);
  const own = ['claude', '-p', '--max-budget-usd', '0.01', '--', '--max-budget-usd'];
  capBudgetArgv(own, 0.5);
  assert.deepEqual(own, ['claude', '-p', '--max-budget-usd', '0.01', '--', '--max-budget-usd']);
  const larger = ['claude', '-p', '--max-budget-usd=2', '--', 'x'];
  capBudgetArgv(larger, 0.5);
  assert.deepEqual(larger, ['claude', '-p', '--max-budget-usd=0.5', '--', 'x']);
});

test('budget: `group NAME --budget USD|none` (TypeScript CLI and python/client.py) sets and clears a budget; a bad amount is a usage error', async () => {
  const set = await d.cli(['--json', 'group', 'cli-b', '--budget', '0.5']);
  assert.equal(set.code, 0, set.stderr);
  assert.equal((JSON.parse(set.stdout) as { budget_usd: number }).budget_usd, 0.5);
  const shown = await d.cli(['group', 'cli-b']);
  assert.match(shown.stdout, /^cli-b: unlimited; 0 running, 0 queued; spent \$0 of \$0\.5\n$/);
  const cleared = await d.cli(['--json', 'group', 'cli-b', '--budget', 'none']);
  assert.equal((JSON.parse(cleared.stdout) as { budget_usd: number | null }).budget_usd, null);
  const bad = await d.cli(['group', 'cli-b', '--budget', '-1']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--budget/);
  const py = await runPython(
    'import json, sys; sys.path.insert(0, "python"); import client; a = client.group_set("py-b", budget_usd=0.25); b = client.group_set("py-b", clear_budget=True); print(json.dumps([a["budget_usd"], b["budget_usd"], b["spent_usd"]]))',
  );
  assert.deepEqual(JSON.parse(py), [0.25, null, 0]);
  const pyCli = await runPython('import sys; sys.path.insert(0, "python"); import client; sys.exit(client.main(["--json", "group", "py-b", "--budget", "0.75"]))');
  assert.equal((JSON.parse(pyCli) as { budget_usd: number }).budget_usd, 0.75);
});

/** Runs python3 -c CODE from the project root against daemon `d`; resolves with its stdout (exit 0 required). */
function runPython(code: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', code], { cwd: ROOT, env: { ...process.env, CLAUDE_DAEMON_SOCKET: d.socket }, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`python3 failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

test('budget: a run\'s own smaller max_budget_usd is kept; a larger one is lowered to what the budget leaves', async () => {
  await c.groupSet({ group: 'own', budget_usd: 10 });
  const small = await c.spawnClaude({ prompt: 'budget run probe', cwd, process_id: 'own-small', group: 'own', max_budget_usd: 0.0001 });
  await c.waitProcess({ process_id: 'own-small', timeout_s: 120 });
  const large = await c.spawnClaude({ prompt: 'budget run probe', cwd, process_id: 'own-large', group: 'own', max_budget_usd: 50 });
  const done = await c.waitProcess({ process_id: 'own-large', timeout_s: 120 });
  const s = await c.processInfo(small.process_id);
  assert.equal(s.cmd.filter((a) => a === '--max-budget-usd').length, 1);
  assert.equal(capOf(s), 0.0001);
  assert.equal(large.cmd.filter((a) => a === '--max-budget-usd').length, 1);
  assert.ok(Math.abs(capOf(done)! - (10 - costOf(s))) < EPS, `own-large cap ${capOf(done)}, expected ${10 - costOf(s)}`);
});
