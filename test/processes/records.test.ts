/**
 * Records that do not grow the daemon without bound: ended records drop what only a live process
 * needs and a long claude result is held on disk only (yet process_info, list and claude_result stay
 * complete, also after a restart), `clean` removes ended ones
 * by status, group and age (never live ones), the retention limits apply at start and as records
 * end, and `list_processes` pages with a cursor that visits every record once while spawns go on.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { slimClaudeResult } from '../../src/daemon/claude/slim.js';
import { Entry } from '../../src/daemon/supervisor/entry.js';
import { ProcessDir, writeStored, type StoredProcess } from '../../src/daemon/supervisor/store.js';
import type { DaemonClient } from '../../src/index.js';
import type { ClaudeRunInfo } from '../../src/protocol/schemas/claude.js';
import type { ProcessRecord } from '../../src/protocol/schemas/processes.js';
import { FIXTURES, startTestDaemon, tempDir, type TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

const daemons: TestDaemon[] = [];
after(async () => {
  for (const d of daemons) await d.stop({ killProcesses: true }).catch(() => undefined);
});

async function daemon(args: string[] = [], dir?: string, env?: Record<string, string>): Promise<{ d: TestDaemon; c: DaemonClient }> {
  const d = await startTestDaemon({ args, ...(dir !== undefined ? { dir } : {}), ...(env !== undefined ? { env } : {}) });
  daemons.push(d);
  return { d, c: await d.client() };
}

/**
 * A `claude` stand-in that prints a recorded stream at once (detected as a claude run by name);
 * with `resultChars`, its result line carries a text that long instead of the recorded one.
 */
function quickClaude(resultChars?: number): string {
  const dir = tempDir('cd-rec-claude-');
  let stream = path.join(FIXTURES, 'claude', 'example-stream-json.txt');
  if (resultChars !== undefined) {
    const long = `${'é0123456789'.repeat(Math.ceil(resultChars / 11))}`.slice(0, resultChars);
    const lines = fs.readFileSync(stream, 'utf8').split('\n').map((l) => {
      if (!l.startsWith('{"type":"result"')) return l;
      const ev = JSON.parse(l) as Record<string, unknown>;
      ev['result'] = long;
      return JSON.stringify(ev);
    });
    stream = path.join(dir, 'stream.txt');
    fs.writeFileSync(stream, lines.join('\n'));
  }
  const bin = path.join(dir, 'claude');
  fs.writeFileSync(bin, `#!/bin/sh\nexec cat ${stream}\n`, { mode: 0o755 });
  return bin;
}
const claudeCmd = (bin: string): string[] => [bin, '-p', '--output-format', 'stream-json', '--verbose', '--', 'hi'];

async function run(c: DaemonClient, cmd: string[], id?: string): Promise<ProcessRecord> {
  const r = await c.spawnProcess({ cmd, ...(id !== undefined ? { process_id: id } : {}) });
  return c.waitProcess({ process_id: r.process_id });
}

type RecordStats = { total: number; settled: number; slim: number };
async function recordStats(c: DaemonClient): Promise<RecordStats> {
  return (await c.request('ping', { stats: true })).records!;
}
/** Waits until `n` ended records are settled (settle.ts: a second or so after their end). */
async function settled(c: DaemonClient, n: number): Promise<RecordStats> {
  let last: RecordStats | undefined;
  await waitFor(async () => ((last = await recordStats(c)).settled >= n), { what: `${n} settled records`, timeoutMs: 30_000 });
  return last!;
}

test('settled ended records: a long claude result is held on disk only, yet process_info, list and claude_result stay complete, also after a restart', async () => {
  const { d, c } = await daemon();
  const plain = await run(c, ['sh', '-c', 'echo out; exit 3'], 'plain');
  const short = await run(c, claudeCmd(quickClaude()), 'short');
  assert.equal((await run(c, claudeCmd(quickClaude(4500)), 'cl')).status, 'exited');
  const mid = await run(c, claudeCmd(quickClaude(1000)), 'mid');
  const envd = await c.waitProcess({ process_id: (await c.spawnProcess({ cmd: ['sh', '-c', 'echo $FOO'], env: { FOO: 'bar' }, process_id: 'envd' })).process_id });
  const full = await c.processInfo('cl');
  const info = full.claude as ClaudeRunInfo;
  assert.equal(info.result?.length, 4097); // 4 KiB and an ellipsis
  assert.equal(info.result_truncated, true);
  assert.equal((mid.claude as ClaudeRunInfo).result_truncated, false);
  const result = await c.request('claude_result', { process_id: 'cl' });
  assert.equal(result.result?.length, 4500);
  const midResult = await c.request('claude_result', { process_id: 'mid' });
  const totals = (await c.listProcesses()).totals;
  assert.equal(typeof totals['total_cost_usd'], 'number');
  const check = async (cc: DaemonClient): Promise<void> => {
    // The claude runs (short, cl, mid) are slim, and so is the record with environment overrides
    // (dropped in memory); the plain record is not.
    assert.deepEqual(await settled(cc, 5), { total: 5, settled: 5, slim: 4 });
    assert.deepEqual(await cc.processInfo('envd'), envd);
    assert.deepEqual(await cc.processInfo('plain'), plain);
    assert.deepEqual(await cc.processInfo('short'), short);
    assert.deepEqual(await cc.processInfo('cl'), full);
    assert.deepEqual(await cc.processInfo('mid'), mid);
    assert.deepEqual(await cc.waitProcess({ process_id: 'cl' }), full);
    assert.deepEqual(await cc.request('claude_result', { process_id: 'cl' }), result);
    assert.deepEqual(await cc.request('claude_result', { process_id: 'mid' }), midResult);
    const list = await cc.listProcesses();
    assert.deepEqual(list.processes, [plain, short, full, mid, envd]);
    assert.deepEqual(list.totals, totals);
    assert.deepEqual((await cc.listProcesses({ limit: 2, cursor: String(2) })).processes.map((p) => p.process_id), ['cl', 'mid']);
  };
  await check(c);
  await d.stop();
  // The file on disk still holds the whole (4 KiB) result: nothing slim was ever written back.
  const onDisk = JSON.parse(fs.readFileSync(path.join(d.home, 'processes', 'cl', 'record.json'), 'utf8')) as { record: ProcessRecord };
  assert.deepEqual(onDisk.record, full);
  const envOnDisk = JSON.parse(fs.readFileSync(path.join(d.home, 'processes', 'envd', 'record.json'), 'utf8')) as { env: unknown };
  assert.deepEqual(envOnDisk.env, { FOO: 'bar' });
  await d.restart();
  await check(await d.client());
});

test('heap growth per ended record stays under 2.25 kB (plain, claude runs, claude runs with a 4 KiB result, after a full GC)', async () => {
  // Without the event journal: its in-memory ring of recent lines is a bounded cache (at most 8,192
  // lines, 8 MiB: events/journal.ts), not a per-record cost, but 1,200 records do not fill it.
  const { c } = await daemon([], undefined, { CLAUDE_DAEMON_EVENTS_OFF: '1' });
  const long = quickClaude(4500);
  const short = quickClaude();
  let done = 0;
  const batch = async (cmd: string[], n: number): Promise<void> => {
    for (let i = 0; i < n; i += 25) {
      const rs = await Promise.all(Array.from({ length: Math.min(25, n - i) }, () => c.spawnProcess({ cmd })));
      await Promise.all(rs.map((r) => c.waitProcess({ process_id: r.process_id })));
    }
    done += n;
    await settled(c, done);
  };
  const heap = async (): Promise<number> => {
    await c.request('ping', { gc: true });
    return (await c.request('ping', { gc: true })).memory!.heap_used;
  };
  // Warm-up: code and the daemon's own tables grow once, not per record.
  await batch(['true'], 100);
  await batch(claudeCmd(long), 100);
  await batch(claudeCmd(short), 100);
  const N = 400;
  const per: Record<string, number> = {};
  for (const [kind, cmd] of [['plain', ['true']], ['claude', claudeCmd(short)], ['claude-4k', claudeCmd(long)]] as const) {
    const h0 = await heap();
    await batch([...cmd], N);
    per[kind] = Math.round(((await heap()) - h0) / N);
  }
  assert.equal((await recordStats(c)).slim, 200 + 2 * N);
  // Measured ~1.3 kB (plain), ~1.4 kB (claude) and ~1.3 kB (4 KiB result); the claude runs took
  // ~2.45 kB when they kept their whole claude object and argv, which fails this. The bound leaves
  // heap noise some room above the 2 kB target (bench/records.bench.ts measures it: ~1.5 kB).
  for (const [kind, b] of Object.entries(per)) assert.ok(b < 2304, `heap grew ${b} bytes per ended ${kind} record (${JSON.stringify(per)})`);
});

test('unslim puts back from record.json what settling cut: the claude object, the argv and the environment overrides', () => {
  const dir = tempDir('cd-rec-unslim-');
  const now = new Date().toISOString();
  const claude = { session_id: 's1', model: 'm', state: 'done', num_turns: 1, last_text: 'x', result: 'y', result_truncated: false, is_error: false, subtype: 'success', total_cost_usd: 0.5, usage: { input_tokens: 3 } };
  const stored: StoredProcess = {
    version: 1,
    record: {
      process_id: 'p1', pid: null, status: 'exited', cmd: ['claude', '-p', '--', 'a long prompt'], cwd: '/', name: null, exit_code: 0, signal: null,
      created_at: now, started_at: now, ended_at: now, duration_ms: 1, stdout_bytes: 0, stderr_bytes: 0,
      timeout_s: null, reason: null, descendants_grace_s: 5, descendants: 0, claude,
    },
    seq: 1, env: { FOO: 'bar' }, has_stdin: false, wrapper_pid: null, wrapper_start: null, pid_start: null,
  };
  const whole = structuredClone(stored);
  const pd = new ProcessDir(dir, 'p1');
  writeStored(pd, stored);
  const e = new Entry(stored, pd);
  // What settle does (supervisor.ts): the claude slimmer, then the environment.
  e.slim = slimClaudeResult(e.record);
  e.stored.env = null;
  assert.deepEqual(e.record.cmd, ['claude']);
  assert.deepEqual(Object.keys(e.record.claude!).sort(), ['is_error', 'result', 'result_truncated', 'state', 'total_cost_usd']);
  assert.equal(e.record.claude!['total_cost_usd'], 0.5);
  assert.deepEqual(e.replyRecord(), whole.record);
  e.unslim();
  assert.equal(e.slim, undefined);
  assert.deepEqual(e.stored, whole);
});

test('clean removes ended records by status, group and age, never queued or running ones', async () => {
  const { d, c } = await daemon(['--max-running', '1']);
  await run(c, ['true'], 'ok1');
  await run(c, ['sh', '-c', 'exit 1'], 'bad1');
  const k = await c.spawnProcess({ cmd: ['sleep', '1000'], process_id: 'killed1' });
  await c.killProcess({ process_id: k.process_id, signal: 'SIGKILL' });
  await run(c, ['true'], 'ok2');
  await c.spawnProcess({ cmd: ['sleep', '1000'], process_id: 'live' });
  await c.spawnProcess({ cmd: ['true'], process_id: 'queued' });
  assert.equal((await c.processInfo('queued')).status, 'queued');
  // Age: nothing ended an hour ago.
  assert.deepEqual(await c.clean({ older_than_s: 3600 }), { removed: 0, process_ids: [] });
  assert.deepEqual(await c.clean({ status: ['killed'] }), { removed: 1, process_ids: ['killed1'] });
  await assert.rejects(c.processInfo('killed1'), { code: 'PROCESS_NOT_FOUND' });
  assert.ok(!fs.existsSync(path.join(d.home, 'processes', 'killed1')));
  await assert.rejects(c.request('clean', { status: ['running'] }), { code: 'INVALID_PARAMS' });
  // Group: a record of group "g1" (set by hand here; the scheduler sets it at spawn).
  await d.stop();
  const file = path.join(d.home, 'processes', 'ok2', 'record.json');
  const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as { record: Record<string, unknown> };
  stored.record['group'] = 'g1';
  fs.writeFileSync(file, JSON.stringify(stored));
  await d.restart();
  const c2 = await d.client();
  assert.deepEqual(await c2.clean({ group: 'g1' }), { removed: 1, process_ids: ['ok2'] });
  const all = await c2.clean({});
  assert.deepEqual(all.process_ids.sort(), ['bad1', 'ok1']);
  const left = (await c2.listProcesses()).processes.map((p) => `${p.process_id}:${p.status}`);
  assert.deepEqual(left, ['live:running', 'queued:queued']);
  // CLI
  await c2.killProcess({ process_id: 'live', signal: 'SIGKILL' });
  await c2.waitProcess({ process_id: 'queued', timeout_s: 30 });
  const cli = await d.cli(['clean', '--status', 'exited', '--json']);
  assert.equal(cli.code, 0, cli.stderr);
  assert.deepEqual(JSON.parse(cli.stdout), { removed: 1, process_ids: ['queued'] });
  const human = await d.cli(['clean', '--older-than', '0s']);
  assert.equal(human.stdout, 'removed 1 ended record\n');
  assert.equal((await d.cli(['clean', '--older-than', 'soon'])).code, 2);
});

test('retention: at most --keep-ended ended records, oldest removed first, as records end and at start', async () => {
  const { d, c } = await daemon();
  for (let i = 1; i <= 5; i++) await run(c, ['true'], `r${i}`);
  await d.stop();
  // At start: a daemon keeping 3 removes the two oldest before it serves.
  const { d: d2, c: c2 } = await daemon(['--keep-ended', '3'], d.dir);
  assert.deepEqual((await c2.listProcesses()).processes.map((p) => p.process_id), ['r3', 'r4', 'r5']);
  assert.ok(!fs.existsSync(path.join(d2.home, 'processes', 'r1')));
  // As records end: the oldest ended goes; a running one never counts or goes.
  await c2.spawnProcess({ cmd: ['sleep', '1000'], process_id: 'live' });
  await run(c2, ['true'], 'r6');
  await waitFor(async () => (await c2.listProcesses()).processes.map((p) => p.process_id).join() === 'r4,r5,live,r6', { what: 'r3 removed' });
  await c2.killProcess({ process_id: 'live' });
  await waitFor(async () => (await c2.listProcesses()).processes.map((p) => p.process_id).join() === 'r5,live,r6', { what: 'r4 removed' });
});

test('retention: ended records older than --keep-ended-for are removed, while the daemon runs and at start', async () => {
  const { d, c } = await daemon();
  await run(c, ['true'], 'old');
  await d.stop();
  const { d: d2, c: c2 } = await daemon(['--keep-ended-for', '2s'], d.dir);
  await waitFor(async () => (await c2.listProcesses()).processes.length === 0, { what: 'old removed', timeoutMs: 15_000 });
  await run(c2, ['true'], 'young');
  assert.equal((await c2.processInfo('young')).status, 'exited');
  await waitFor(async () => (await c2.listProcesses()).processes.length === 0, { what: 'young removed after 2 s', timeoutMs: 15_000 });
  assert.ok(!fs.existsSync(path.join(d2.home, 'processes', 'young')));
});

test('list_processes pages: every record exactly once across pages while spawns and removals happen', async () => {
  const { d, c } = await daemon();
  const initial: string[] = [];
  for (let i = 0; i < 30; i++) initial.push((await c.spawnProcess({ cmd: ['true'], process_id: `i${String(i).padStart(2, '0')}` })).process_id);
  await waitFor(async () => (await c.listProcesses({ status: 'running' })).processes.length === 0, { what: 'all ended' });
  const seen: string[] = [];
  let cursor: string | undefined;
  let extra = 0;
  for (let pages = 0; pages < 100; pages++) {
    const r = await c.listProcesses({ limit: 7, ...(cursor !== undefined ? { cursor } : {}) });
    assert.ok(r.processes.length <= 7);
    assert.equal(Object.values(r.totals).reduce((a, b) => a + b, 0) >= 30 - 1, true);
    seen.push(...r.processes.map((p) => p.process_id));
    if (r.next_cursor === null) break;
    assert.equal(typeof r.next_cursor, 'string');
    cursor = r.next_cursor;
    // Meanwhile: new records (they come after every cursor) and a removal of one already seen.
    if (extra < 5) await c.spawnProcess({ cmd: ['true'], process_id: `x${extra++}` });
    if (pages === 1) await c.removeProcess('i00');
  }
  assert.equal(new Set(seen).size, seen.length, 'no record twice');
  for (const id of initial) assert.ok(seen.includes(id), `${id} listed`);
  assert.ok(extra >= 3);
  assert.deepEqual(seen.filter((id) => id.startsWith('x')), Array.from({ length: extra }, (_, i) => `x${i}`));
  // Without limit or cursor: everything, and no next_cursor (unchanged).
  const all = await c.listProcesses();
  assert.equal('next_cursor' in all, false);
  assert.equal(all.processes.length, 29 + extra);
  await assert.rejects(c.request('list_processes', { cursor: 'abc' }), { code: 'INVALID_PARAMS' });
  await assert.rejects(c.request('list_processes', { limit: 0 }), { code: 'INVALID_PARAMS' });
  const cli = await d.cli(['list', '--limit', '2']);
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, /more: list --limit 2 --cursor [0-9]+\n$/);
});
