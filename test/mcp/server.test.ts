/**
 * `claude-daemon mcp` against a real test daemon, through the SDK's own client over stdio: the tool
 * list, every tool's result against its outputSchema, progress while `wait` blocks, paging of
 * read_output, and bad input as isError results (never a protocol error, never a dead server).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Progress } from '@modelcontextprotocol/sdk/types.js';
import type { ProcessRecord } from '../../src/protocol/schemas/processes.js';
import { FIXTURES, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { offlineClaudeEnv, startMockAnthropic } from '../helpers/mock-anthropic.js';
import { waitFor } from '../helpers/wait.js';
import { startMcp, textOf, type McpSession } from './server-harness.js';

const FAKE = path.join(FIXTURES, 'fake-claude', 'claude');
const TOOL_NAMES = [
  'spawn_claude', 'spawn_process', 'list_processes', 'process_info', 'read_output', 'wait', 'claude_result',
  'kill_process', 'remove_process', 'load_module', 'call_function', 'list_modules', 'ping',
  'send_message', 'interrupt', 'close_input', 'group_list', 'group_set',
];

let d: TestDaemon;
let m: McpSession;
before(async () => {
  d = await startTestDaemon();
  // A short progress interval so the progress test does not take 10 s; --no-start: this daemon only.
  m = await startMcp(['--socket', d.socket, '--no-start'], { CLAUDE_DAEMON_MCP_PROGRESS_MS: '200' });
});
after(async () => {
  await m?.close();
  await d?.stop({ killProcesses: true });
});

test('tools/list: exactly the issue\'s tools, each with input and output schemas and truthful hints', () => {
  assert.deepEqual(m.tools.map((t) => t.name), TOOL_NAMES);
  for (const t of m.tools) {
    assert.equal(t.inputSchema.type, 'object', t.name);
    assert.equal(t.outputSchema?.type, 'object', t.name);
    assert.ok(t.description && t.description.length > 40, `${t.name} is described`);
  }
  const hint = (name: string): Record<string, unknown> => (m.tools.find((t) => t.name === name)?.annotations ?? {}) as Record<string, unknown>;
  for (const ro of ['list_processes', 'process_info', 'read_output', 'wait', 'claude_result', 'list_modules', 'ping', 'group_list']) assert.equal(hint(ro)['readOnlyHint'], true, ro);
  for (const w of ['spawn_claude', 'spawn_process', 'kill_process', 'remove_process', 'load_module', 'call_function', 'send_message', 'interrupt', 'close_input', 'group_set']) assert.equal(hint(w)['readOnlyHint'], false, w);
  for (const x of ['kill_process', 'remove_process', 'interrupt', 'close_input']) assert.equal(hint(x)['destructiveHint'], true, x);
  for (const s of ['spawn_claude', 'spawn_process', 'load_module', 'send_message', 'group_set']) assert.equal(hint(s)['destructiveHint'], false, s);
  // Input schemas are the wire's: a parameter of spawn_claude's protocol schema is there, described.
  const spawn = m.tools.find((t) => t.name === 'spawn_claude')!.inputSchema as { properties: Record<string, { description?: string }>; required?: string[] };
  assert.ok(spawn.properties['max_budget_usd'] && spawn.properties['allowed_tools']?.description);
  assert.deepEqual(spawn.required, ['prompt']);
  assert.match(m.tools.find((t) => t.name === 'spawn_claude')!.description!, /wait.*claude_result/s);
});

test('every tool answers with structured content matching its outputSchema and a text summary', async () => {
  const pong = await m.ok<{ pid: number; home: string }>('ping');
  assert.equal(pong.pid, d.proc.pid);

  const rec = await m.ok<ProcessRecord>('spawn_process', { cmd: ['sh', '-c', 'echo one; echo two >&2'], process_id: 'p1' });
  assert.equal(rec.process_id, 'p1');
  const waited = await m.ok<{ ended: string[]; still_running: string[]; processes: ProcessRecord[]; timed_out: boolean }>('wait', { process_ids: ['p1'] });
  assert.deepEqual([waited.ended, waited.still_running, waited.timed_out], [['p1'], [], false]);
  assert.equal(waited.processes[0]!.status, 'exited');
  assert.equal((await m.ok<ProcessRecord>('process_info', { process_id: 'p1' })).exit_code, 0);
  const list = await m.ok<{ processes: ProcessRecord[] }>('list_processes');
  assert.ok(list.processes.some((p) => p.process_id === 'p1'));
  const err = await m.ok<{ data: string; path: string }>('read_output', { process_id: 'p1', stream: 'stderr' });
  assert.equal(err.data, 'two\n');
  assert.equal(err.path, path.join(pong.home, 'processes', 'p1', 'stderr'));

  const run = await m.ok<ProcessRecord>('spawn_claude', { prompt: 'hello there', env: { CLAUDE_BIN: FAKE }, process_id: 'c1' });
  assert.ok(run.claude, 'a claude record');
  await m.ok('wait', { process_ids: ['c1'], timeout_s: 60 });
  const res = await m.call('claude_result', { process_id: 'c1' });
  assert.equal((res.structuredContent as { result: string }).result, 'FAKE REPLY: hello there');
  assert.equal(textOf(res), 'FAKE REPLY: hello there', 'the model reads the final text itself');

  const sleeper = await m.ok<ProcessRecord>('spawn_process', { cmd: ['sleep', '30'], process_id: 'k1' });
  assert.equal(sleeper.status, 'running');
  const killed = await m.ok<ProcessRecord>('kill_process', { process_id: 'k1', grace_s: 1 });
  assert.equal(killed.status, 'killed');
  assert.deepEqual(await m.ok('remove_process', { process_id: 'k1' }), { removed: true, process_id: 'k1' });

  fs.writeFileSync(path.join(d.modulesDir, 'greet.ts'), 'export function hello(name: string) { return { text: `Hello, ${name}!` }; }\n');
  const mod = await m.ok<{ module: string; functions: { name: string }[] }>('load_module', { module_name: 'greet' });
  assert.deepEqual(mod.functions.map((f) => f.name), ['hello']);
  const called = await m.call('call_function', { module_name: 'greet', function_name: 'hello', args: ['MCP'] });
  assert.deepEqual(called.structuredContent, { module: 'greet', function: 'hello', result: { text: 'Hello, MCP!' } });
  assert.equal(textOf(called), '{"text":"Hello, MCP!"}');
  const mods = await m.ok<{ modules: { module: string }[] }>('list_modules');
  assert.deepEqual(mods.modules.map((x) => x.module), ['greet']);

  const set = await m.call('group_set', { group: 'mcp-g', parallel: 2, paused: true, budget_usd: 1 });
  assert.deepEqual(
    (({ group, parallel, paused, budget_usd }) => ({ group, parallel, paused, budget_usd }))(set.structuredContent as { group: string; parallel: number; paused: boolean; budget_usd: number }),
    { group: 'mcp-g', parallel: 2, paused: true, budget_usd: 1 },
  );
  assert.match(textOf(set), /^mcp-g: 0 running, 0 queued, parallel 2, paused, spent/);
  const groups = await m.call('group_list');
  assert.ok((groups.structuredContent as { groups: { group: string }[] }).groups.some((g) => g.group === 'mcp-g'));
  assert.match(textOf(groups), /^\d+ groups?\n(.*\n)*mcp-g: /);
  await m.ok('group_set', { group: 'mcp-g', paused: false });
  assert.deepEqual(m.transportErrors, [], 'stdout carried only protocol messages');
});

test('live session tools: spawn_claude interactive, send_message, interrupt with no turn running, close_input (real claude CLI, mock API)', async () => {
  const mock = await startMockAnthropic();
  try {
    const env = offlineClaudeEnv(mock);
    const cwd = path.join(d.dir, 'live');
    fs.mkdirSync(cwd, { recursive: true });
    const s = await m.call('spawn_claude', { prompt: 'first mcp turn', interactive: true, env, cwd, process_id: 'live1' });
    assert.match(textOf(s), /send_message/);
    const r1 = await m.ok<{ result: string }>('claude_result', { process_id: 'live1', turn: 1, wait: true, timeout_s: 90 });
    assert.equal(r1.result, 'MOCK REPLY: first mcp turn');
    await waitFor(async () => ((await m.ok<ProcessRecord>('process_info', { process_id: 'live1' })).claude as { state?: string }).state === 'idle', { timeoutMs: 30_000, what: 'idle' });
    const sent = await m.call('send_message', { process_id: 'live1', text: 'second mcp turn' });
    assert.equal((sent.structuredContent as { turn: number }).turn, 2);
    assert.match(textOf(sent), /^live1: turn 2 /);
    const r2 = await m.ok<{ result: string }>('claude_result', { process_id: 'live1', turn: 2, wait: true, timeout_s: 90 });
    assert.equal(r2.result, 'MOCK REPLY: second mcp turn');
    await waitFor(async () => ((await m.ok<ProcessRecord>('process_info', { process_id: 'live1' })).claude as { state?: string }).state === 'idle', { timeoutMs: 30_000, what: 'idle again' });
    assert.deepEqual(await m.ok('interrupt', { process_id: 'live1' }), { process_id: 'live1', turn: null, interrupted: false });
    const closed = await m.ok<{ closed_now: boolean }>('close_input', { process_id: 'live1' });
    assert.equal(closed.closed_now, true);
    const w = await m.ok<{ ended: string[] }>('wait', { process_ids: ['live1'], timeout_s: 60 });
    assert.deepEqual(w.ended, ['live1']);
    assert.match(await m.fails('send_message', { process_id: 'live1', text: 'too late' }), /^(SESSION_CLOSED|PROCESS_NOT_RUNNING|NOT_RUNNING)/);
  } finally {
    await mock.close();
  }
});

test('read_output pages by offset/max_bytes to eof, tails by lines, and names the file the agent can Read', async () => {
  await m.ok('spawn_process', { cmd: ['sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9; do echo line$i; done'], process_id: 'out1' });
  await m.ok('wait', { process_ids: ['out1'] });
  let offset = 0;
  let text = '';
  let pages = 0;
  for (;;) {
    const r = await m.ok<{ data: string; next_offset: number; eof: boolean; path: string }>('read_output', { process_id: 'out1', offset, max_bytes: 16 });
    text += r.data;
    pages++;
    offset = r.next_offset;
    if (r.eof) {
      assert.equal(fs.readFileSync(r.path, 'utf8'), text, 'the path is the output file');
      break;
    }
    assert.ok(pages < 20);
  }
  assert.equal(pages, 4);
  assert.equal(text, [1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => `line${i}\n`).join(''));
  const tail = await m.call('read_output', { process_id: 'out1', tail_lines: 2 });
  assert.equal((tail.structuredContent as { data: string }).data, 'line8\nline9\n');
  assert.match(textOf(tail), /^line8\nline9\n\[stdout of out1, bytes \d+-\d+, end of output; file \//);
});

test('wait sends progress notifications naming what still runs (claude turns), and mode any returns the first to end', async () => {
  await m.ok('spawn_claude', { prompt: 'FAKE_HANG_MID', env: { CLAUDE_BIN: FAKE }, process_id: 'cl-slow' });
  await m.ok('spawn_process', { cmd: ['sh', '-c', 'sleep 1.5'], process_id: 'quick' });
  await m.ok('spawn_process', { cmd: ['sleep', '60'], process_id: 'slow' });
  const progress: Progress[] = [];
  const r = await m.call('wait', { process_ids: ['cl-slow', 'quick', 'slow'], mode: 'any', timeout_s: 60 }, (p) => progress.push(p));
  assert.notEqual(r.isError, true, textOf(r));
  const s = r.structuredContent as { ended: string[]; still_running: string[]; timed_out: boolean; processes: ProcessRecord[] };
  assert.deepEqual(s.ended, ['quick']);
  assert.deepEqual(s.still_running, ['cl-slow', 'slow']);
  assert.equal(s.timed_out, false);
  assert.deepEqual(s.processes.map((p) => p.process_id), ['quick', 'cl-slow', 'slow'], 'ended first');
  assert.ok(progress.length >= 2, `progress sent while waiting (${progress.length})`);
  assert.match(progress[0]!.message ?? '', /^0 of 3 ended; cl-slow (starting|working), \d+ turns?.*; quick running for .*; slow running for/);
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i]!.progress > progress[i - 1]!.progress, 'progress grows');
  assert.equal(progress[0]!.total, 3);
  // A timeout: what still runs is reported, and they keep running.
  const t = await m.ok<{ timed_out: boolean; still_running: string[] }>('wait', { process_ids: ['cl-slow', 'slow'], timeout_s: 0.5 });
  assert.deepEqual([t.timed_out, t.still_running], [true, ['cl-slow', 'slow']]);
  // claude_result {wait} sends progress too, naming the run.
  const cp: Progress[] = [];
  const still = await m.call('claude_result', { process_id: 'cl-slow', wait: true, timeout_s: 1.5 }, (p) => cp.push(p));
  assert.deepEqual([(still.structuredContent as { running: boolean }).running, (still.structuredContent as { timed_out?: boolean }).timed_out], [true, true]);
  assert.match(textOf(still), /^cl-slow is still running .*call wait/);
  assert.ok(cp.length >= 2, `progress during claude_result (${cp.length})`);
  assert.match(cp[0]!.message ?? '', /^waiting for cl-slow: (starting|working), \d+ turns?/);
  await m.ok('kill_process', { process_id: 'cl-slow', grace_s: 1 });
  await m.ok('kill_process', { process_id: 'slow', grace_s: 1 });
  const all = await m.ok<{ ended: string[]; timed_out: boolean }>('wait', { process_ids: ['cl-slow', 'slow'] });
  assert.deepEqual([all.ended.sort(), all.timed_out], [['cl-slow', 'slow'], false]);
});

test('bad input gets an isError result with a code and the reason, and the server keeps serving', async () => {
  await m.ok('spawn_process', { cmd: ['true'], process_id: 'bad-in' });
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['spawn_process', { cmd: 'echo hi' }, /^INVALID_PARAMS: .*`cmd`: invalid input: expected array/],
    ['spawn_claude', {}, /^INVALID_PARAMS: .*`prompt`/],
    ['process_info', { process_id: 'no-such' }, /^PROCESS_NOT_FOUND: /],
    ['read_output', { process_id: 'no-such' }, /^PROCESS_NOT_FOUND: /],
    ['read_output', { process_id: 'bad-in', offset: 0, tail_lines: 2 }, /^INVALID_PARAMS: .*not both/],
    ['wait', { process_ids: [] }, /^INVALID_PARAMS: .*`process_ids`: must name at least one/],
    ['wait', { process_ids: ['bad-in'], timeout_s: 3600 }, /^INVALID_PARAMS: .*`timeout_s`/],
    ['wait', { process_ids: ['bad-in', 'no-such'] }, /^PROCESS_NOT_FOUND: /],
    ['kill_process', { process_id: 'bad-in', signal: 'SIGNOPE' }, /^INVALID_PARAMS: .*signal/],
    ['remove_process', { process_id: '..' }, /^INVALID_PARAMS: /],
    ['load_module', { module_name: 'missing_module' }, /^MODULE_NOT_FOUND: /],
    ['load_module', { module_name: '../etc' }, /^INVALID_MODULE_NAME: /],
    ['call_function', { module_name: 'not_loaded', function_name: 'f' }, /^MODULE_NOT_(LOADED|FOUND): /],
    ['claude_result', { process_id: 'bad-in' }, /^NOT_A_CLAUDE_RUN: /],
    ['send_message', { process_id: 'c1', text: 'hi' }, /^NOT_INTERACTIVE: /],
    ['interrupt', { process_id: 'c1' }, /^NOT_INTERACTIVE: /],
    ['close_input', { process_id: 'c1' }, /^NOT_INTERACTIVE: /],
    ['send_message', { process_id: 'c1', text: '' }, /^INVALID_PARAMS: .*`text`/],
    ['group_set', { group: 'g', parallel: -1 }, /^INVALID_PARAMS: .*`parallel`/],
    ['no_such_tool', {}, /^UNKNOWN_TOOL: .*spawn_claude/],
  ];
  for (const [tool, args, re] of cases) assert.match(await m.fails(tool, args), re, `${tool} ${JSON.stringify(args)}`);
  // A spawn that cannot start is the daemon's SPAWN_FAILED, with the record's reason.
  assert.match(await m.fails('spawn_process', { cmd: ['/no/such/program'] }), /^SPAWN_FAILED: /);
  assert.equal((await m.ok<{ pong: boolean }>('ping')).pong, true);
  assert.deepEqual(m.transportErrors, []);
});
