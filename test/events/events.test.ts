/**
 * The event stream against a real daemon and real processes: order, filters, since_seq replay,
 * events interleaved with replies on one connection, unwatch, kills, module and claude events.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { offlineClaudeEnv, startMockAnthropic, subscriptionClaudeEnv, type MockAnthropic } from '../helpers/mock-anthropic.js';
import { RawConn } from '../helpers/raw.js';
import { waitFor } from '../helpers/wait.js';
import type { EventLine } from '../../src/index.js';
import { fx } from '../processes/util.js';
import { collect, endedAll, shape } from './util.js';

let d: TestDaemon;
let mock: MockAnthropic;
before(async () => {
  mock = await startMockAnthropic();
  d = await startTestDaemon({ env: offlineClaudeEnv(mock) });
});
after(async () => {
  await d.stop({ killProcesses: true });
  await mock.close();
});

test('spawn, start and end arrive in that order, once each, with increasing seqs and the outcome', async () => {
  const c = await d.client();
  const s = c.watch({ process_ids: ['order-1'] });
  const ready = await s.ready;
  assert.equal(ready.watching, true);
  await c.spawnProcess({ cmd: ['sh', '-c', 'exit 3'], process_id: 'order-1' });
  const got = await collect(s, (all) => endedAll(all, ['order-1']));
  assert.deepEqual(shape(got), ['spawned:order-1', 'started:order-1', 'ended:order-1']);
  const seqs = got.map((e) => e.seq!);
  assert.ok(seqs[0]! > ready.last_seq && seqs[1] === seqs[0]! + 1 && seqs[2] === seqs[1]! + 1, `consecutive seqs after last_seq: ${seqs.join(',')}`);
  const end = got[2]!;
  assert.equal(end.event, true);
  assert.equal(end.data['status'], 'exited');
  assert.equal(end.data['exit_code'], 3);
  assert.equal(typeof end.time, 'string');
  assert.equal((got[1]!.data['pid'] as number) > 0, true);
  await s.return();
});

test('filters: types and process_ids select; output only when asked, as byte counts', async () => {
  const c = await d.client();
  const onlyEnds = c.watch({ types: ['ended'], process_ids: ['f-a'] });
  const withOutput = (await d.client()).watch({ types: ['output', 'ended'], process_ids: ['f-b'] });
  const everything = (await d.client()).watch({});
  await Promise.all([onlyEnds.ready, withOutput.ready, everything.ready]);
  await c.spawnProcess({ cmd: ['true'], process_id: 'f-a' });
  await c.spawnProcess({ cmd: ['sh', '-c', 'printf 12345; sleep 0.6; printf 678; sleep 0.6'], process_id: 'f-b' });
  const ends = await collect(onlyEnds, (all) => all.length >= 1);
  assert.deepEqual(shape(ends), ['ended:f-a']);
  const out = await collect(withOutput, (all) => endedAll(all, ['f-b']));
  assert.ok(out.every((e) => e.process_id === 'f-b' && (e.type === 'output' || e.type === 'ended')), JSON.stringify(shape(out)));
  const outputs = out.filter((e) => e.type === 'output');
  assert.ok(outputs.length >= 1, 'at least one output event');
  assert.equal(outputs.at(-1)!.data['stdout_bytes'], 8);
  const all = await collect(everything, (x) => endedAll(x, ['f-a', 'f-b']));
  assert.ok(!all.some((e) => e.type === 'output'), 'output is not sent unless asked for by name');
  assert.ok(all.some((e) => e.type === 'spawned' && e.process_id === 'f-b'));
  await Promise.all([onlyEnds.return(), withOutput.return(), everything.return()]);
});

test('since_seq replays the journal, then caught_up, then live events follow without a gap or a repeat', async () => {
  const c = await d.client();
  const first = c.watch({});
  const at = (await first.ready).last_seq;
  await first.return();
  await c.spawnProcess({ cmd: ['true'], process_id: 'r-1' });
  await c.waitProcess({ process_id: 'r-1' });
  await waitFor(async () => (await c.processInfo('r-1')).status === 'exited');
  const s = (await d.client()).watch({ since_seq: at, process_ids: ['r-1', 'r-2'] });
  const replayed = await collect(s, (all) => all.some((e) => e.type === 'caught_up'));
  assert.deepEqual(shape(replayed), ['spawned:r-1', 'started:r-1', 'ended:r-1']);
  assert.equal(replayed.at(-1)!.type, 'caught_up');
  await c.spawnProcess({ cmd: ['true'], process_id: 'r-2' });
  const live = await collect(s, (all) => endedAll(all, ['r-2']));
  assert.deepEqual(shape(live), ['spawned:r-2', 'started:r-2', 'ended:r-2']);
  assert.ok(live[0]!.seq! > replayed[2]!.seq!);
  await s.return();
});

test('events interleave with replies on one connection: the watch reply first, events carry no id', async () => {
  const raw = await RawConn.open(d.socket);
  try {
    raw.socket.write(JSON.stringify({ command: 'watch', id: 'w', process_ids: ['mix-1'] }) + '\n');
    raw.socket.write(JSON.stringify({ command: 'spawn_process', id: 's', cmd: [fx('sleeper.sh'), '0.3'], process_id: 'mix-1' }) + '\n');
    for (let i = 0; i < 5; i++) raw.socket.write(JSON.stringify({ command: 'ping', id: `p${i}` }) + '\n');
    raw.socket.write(JSON.stringify({ command: 'wait_process', id: 'wait', process_id: 'mix-1' }) + '\n');
    await waitFor(() => raw.replies.some((r) => r.id === 'wait') && raw.replies.some((r) => r['type'] === 'ended'), { what: 'the wait reply and the ended event' });
    const lines = raw.replies;
    const watchAt = lines.findIndex((r) => r.id === 'w');
    const firstEvent = lines.findIndex((r) => r['event'] === true);
    assert.ok(watchAt >= 0 && watchAt < firstEvent, 'the watch reply comes before any event');
    for (const r of lines) {
      if (r['event'] === true) {
        assert.equal(r.id, undefined);
        assert.equal(r.success, undefined);
        assert.equal(typeof r['seq'], 'number');
      } else {
        assert.equal(r.success, true, JSON.stringify(r));
      }
    }
    assert.equal(lines.filter((r) => typeof r.id === 'string' && r.id.startsWith('p')).length, 5, 'every ping answered');
    assert.deepEqual(lines.filter((r) => r['event'] === true).map((r) => r['type']), ['spawned', 'started', 'ended']);
  } finally {
    raw.close();
  }
});

test('unwatch: no event line follows its reply; kill_process gives killed then ended', async () => {
  const raw = await RawConn.open(d.socket);
  try {
    raw.socket.write(JSON.stringify({ command: 'watch', id: 'w', process_ids: ['k-1', 'k-2'] }) + '\n');
    raw.socket.write(JSON.stringify({ command: 'spawn_process', id: 's', cmd: [fx('sleeper.sh')], process_id: 'k-1' }) + '\n');
    await waitFor(() => raw.replies.some((r) => r.id === 's'));
    raw.socket.write(JSON.stringify({ command: 'kill_process', id: 'k', process_id: 'k-1' }) + '\n');
    await waitFor(() => raw.replies.some((r) => r['type'] === 'ended'), { what: 'ended of k-1' });
    const types = raw.replies.filter((r) => r['event'] === true).map((r) => r['type']);
    assert.deepEqual(types, ['spawned', 'started', 'killed', 'ended']);
    const killed = raw.replies.find((r) => r['type'] === 'killed')!;
    assert.equal((killed['data'] as Record<string, unknown>)['signal'], 'SIGTERM');
    raw.socket.write(JSON.stringify({ command: 'unwatch', id: 'u' }) + '\n');
    await waitFor(() => raw.replies.some((r) => r.id === 'u'));
    const u = raw.replies.find((r) => r.id === 'u')!;
    assert.deepEqual(u.result, { unwatched: true, last_seq: raw.replies.find((r) => r['type'] === 'ended')!['seq'] });
    const c = await d.client();
    await c.spawnProcess({ cmd: ['true'], process_id: 'k-2' });
    await c.waitProcess({ process_id: 'k-2' });
    raw.socket.write(JSON.stringify({ command: 'ping', id: 'last' }) + '\n');
    await waitFor(() => raw.replies.some((r) => r.id === 'last'));
    const afterUnwatch = raw.replies.slice(raw.replies.findIndex((r) => r.id === 'u') + 1);
    assert.deepEqual(afterUnwatch.filter((r) => r['event'] === true), [], 'nothing after unwatch');
  } finally {
    raw.close();
  }
});

test('module_loaded and module_failed: a load, a rejected save, with the serving version', async () => {
  const c = await d.client();
  const s = c.watch({ types: ['module_loaded', 'module_failed'] });
  await s.ready;
  fs.writeFileSync(path.join(d.modulesDir, 'evmod.ts'), 'export function hi() { return 1; }\n');
  await c.loadModule('evmod');
  fs.writeFileSync(path.join(d.modulesDir, 'evmod.ts'), 'export function hi( { return 1; }\n');
  await c.loadModule('evmod').catch(() => undefined);
  const got = await collect(s, (all) => all.length >= 2);
  assert.equal(got[0]!.type, 'module_loaded');
  assert.deepEqual({ ...got[0]!.data }, { module: 'evmod', version: 1, language: 'typescript', functions: 1 });
  assert.equal(got[0]!.process_id, undefined);
  assert.equal(got[1]!.type, 'module_failed');
  assert.equal(got[1]!.data['serving_version'], 1);
  assert.match(String(got[1]!.data['error']), /evmod\.ts/);
  await s.return();
  await c.unloadModule('evmod');
});

test('a claude run: claude_state changes, and its ended event carries the verdict and cost', async () => {
  const c = await d.client();
  const s = c.watch({ process_ids: ['ev-claude'] });
  await s.ready;
  await c.spawnClaude({ prompt: 'hello events', process_id: 'ev-claude', cwd: d.dir });
  const got = await collect(s, (all) => endedAll(all, ['ev-claude']), 60_000);
  const states = got.filter((e) => e.type === 'claude_state').map((e) => e.data['state']);
  assert.ok(states.length >= 1, `claude_state events: ${JSON.stringify(shape(got))}`);
  assert.equal(new Set(states).size, states.length, 'no state repeated');
  const end = got.find((e) => e.type === 'ended')!;
  const claude = end.data['claude'] as Record<string, unknown>;
  assert.equal(claude['is_error'], false, JSON.stringify(claude));
  assert.equal(claude['state'], 'done');
  assert.equal(typeof claude['total_cost_usd'], 'number');
  assert.equal(got[0]!.data['claude'], true, 'spawned says it is a claude run');
  await s.return();
});

test('bad watch parameters are INVALID_PARAMS naming the field; reserved types are accepted', async () => {
  const c = await d.client();
  await assert.rejects(c.request('watch', { types: ['bogus'] }), (e: Error & { code?: string }) => e.code === 'INVALID_PARAMS' && /types/.test(e.message));
  await assert.rejects(c.request('watch', { since_seq: -1 }), (e: Error & { code?: string }) => e.code === 'INVALID_PARAMS' && /since_seq/.test(e.message));
  // Reserved types are accepted (nothing is emitted for them yet).
  const s = c.watch({ types: ['permission_asked', 'permission_answered'] });
  assert.equal((await s.ready).watching, true);
  await s.return();
});

test('a live session: one turn_ended per turn, with its number, verdict and cost, before the ended event', async () => {
  const c = await d.client();
  const s = c.watch({ process_ids: ['ev-live'] });
  await s.ready;
  await c.spawnClaude({ prompt: 'first evented turn', process_id: 'ev-live', cwd: d.dir, interactive: true });
  const turns = (all: EventLine[]): EventLine[] => all.filter((e) => e.type === 'turn_ended');
  const got1 = await collect(s, (all) => turns(all).length >= 1, 90_000);
  await waitFor(async () => ((await c.processInfo('ev-live')).claude as { state?: string }).state === 'idle', { timeoutMs: 30_000, what: 'idle' });
  assert.equal((await c.sendMessage({ process_id: 'ev-live', text: 'second evented turn' })).turn, 2);
  const got2 = await collect(s, (all) => turns(all).length >= 1, 90_000);
  await c.closeInput({ process_id: 'ev-live' });
  const rest = await collect(s, (all) => endedAll(all, ['ev-live']), 60_000);
  const all = [...got1, ...got2, ...rest];
  const ended = turns(all);
  assert.deepEqual(ended.map((e) => e.data['turn']), [1, 2], JSON.stringify(shape(all)));
  for (const e of ended) {
    assert.equal(e.process_id, 'ev-live');
    assert.equal(e.data['state'], 'done');
    assert.equal(e.data['is_error'], false);
    assert.equal(e.data['subtype'], 'success');
    assert.equal(typeof e.data['cost_usd'], 'number');
    assert.equal(typeof e.data['ended_at'], 'string');
  }
  assert.ok(all.findIndex((e) => e.type === 'ended') > all.indexOf(ended[1]!), 'the turns come before the end');
  await s.return();
});

test('held and released: the usage hold begins when a claude run hits the limit and ends at the reset, with its reason and until', async () => {
  const m2 = await startMockAnthropic();
  const d2 = await startTestDaemon({ env: subscriptionClaudeEnv(m2) });
  try {
    const c = await d2.client();
    const s = c.watch({ types: ['held', 'released'] });
    await s.ready;
    const resetsAt = Math.ceil(Date.now() / 1000) + 4;
    m2.setUsageLimit({ rejectUntilMs: resetsAt * 1000, resetsAt });
    await c.spawnClaude({ prompt: 'events hold task', process_id: 'ev-hold', limit_resume_prompt: 'continue events hold' });
    const got = await collect(s, (all) => all.some((e) => e.type === 'released'), 120_000);
    assert.deepEqual(got.map((e) => e.type), ['held', 'released'], JSON.stringify(got));
    const [held, released] = got as [EventLine, EventLine];
    assert.equal(held.process_id, undefined, 'daemon-wide: no process id');
    assert.match(String(held.data['reason']), /^claude runs held until \d\d:\d\d UTC \(five_hour limit\)$/);
    assert.equal(held.data['cause'], 'usage_limit');
    assert.equal(held.data['limit_type'], 'five_hour');
    assert.ok(Date.parse(String(held.data['until'])) >= resetsAt * 1000, `until ${String(held.data['until'])}`);
    assert.equal(released.data['until'], null);
    assert.equal(released.data['ramp'], 1, 'claude runs start ramped after it');
    assert.ok(Date.parse(released.time) >= resetsAt * 1000, 'released at the reset, not before');
    await s.return();
  } finally {
    await d2.stop({ killProcesses: true });
    await m2.close();
  }
});

test('turn_ended once per turn across a daemon SIGKILL between turns (the restarted daemon re-reads every turn)', async () => {
  const d3 = await startTestDaemon({ env: offlineClaudeEnv(mock) });
  try {
    let c = await d3.client();
    const s = c.watch({ process_ids: ['ev-crash'], types: ['turn_ended'] });
    await s.ready;
    await c.spawnClaude({ prompt: 'evented before the crash', process_id: 'ev-crash', cwd: d3.dir, interactive: true });
    await collect(s, (all) => all.length >= 1, 90_000);
    c.close();
    await d3.kill('SIGKILL');
    await d3.restart();
    c = await d3.client();
    await waitFor(async () => ((await c.processInfo('ev-crash')).claude as { turns?: { state: string }[] }).turns?.[0]?.state === 'done', { timeoutMs: 30_000, what: 'turn 1 rebuilt' });
    assert.equal((await c.sendMessage({ process_id: 'ev-crash', text: 'evented after the crash' })).turn, 2);
    await c.claudeResult({ process_id: 'ev-crash', turn: 2, wait: true, timeout_s: 90 });
    await c.closeInput({ process_id: 'ev-crash' });
    await c.waitProcess({ process_id: 'ev-crash', timeout_s: 60 });
    const r = c.watch({ since_seq: 0, process_ids: ['ev-crash'] });
    const all = await collect(r, (got) => endedAll(got, ['ev-crash']), 30_000);
    assert.deepEqual(all.filter((e) => e.type === 'turn_ended').map((e) => e.data['turn']), [1, 2], JSON.stringify(shape(all)));
    await r.return();
  } finally {
    await d3.stop({ killProcesses: true });
  }
});
