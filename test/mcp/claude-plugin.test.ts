/**
 * The shipped Claude Code plugin, without running claude: its manifest matches the package, its
 * server configuration goes through the launcher, the launcher runs this checkout's CLI, the skill
 * names every tool, and the package ships the folder. Also the mock's scripted turns, which the
 * real-claude round trip (claude-roundtrip.test.ts) is built on.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT } from '../helpers/daemon.js';
import { offlineClaudeEnv, startMockAnthropic, type MockAnthropic } from '../helpers/mock-anthropic.js';

const PLUGIN = path.join(ROOT, 'plugin');
const TOOLS = ['spawn_claude', 'spawn_process', 'list_processes', 'process_info', 'read_output', 'wait', 'claude_result', 'kill_process', 'remove_process', 'load_module', 'call_function', 'list_modules', 'ping', 'send_message', 'interrupt', 'close_input', 'group_list', 'group_set'];
const readJson = (file: string): Record<string, unknown> => JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;

test('plugin manifest: name claude-daemon, the package version, a description; the package ships plugin/', () => {
  const manifest = readJson(path.join(PLUGIN, '.claude-plugin', 'plugin.json'));
  const pkg = readJson(path.join(ROOT, 'package.json'));
  assert.equal(manifest['name'], 'claude-daemon');
  assert.equal(manifest['version'], pkg['version'], 'bump plugin/.claude-plugin/plugin.json with package.json');
  assert.equal(typeof manifest['description'], 'string');
  assert.ok((pkg['files'] as string[]).includes('plugin'), 'package.json "files" ships plugin/');
});

test('plugin .mcp.json: one stdio server named claude-daemon, run by the launcher beside it', () => {
  const servers = readJson(path.join(PLUGIN, '.mcp.json'))['mcpServers'] as Record<string, { command: string; args: string[] }>;
  assert.deepEqual(Object.keys(servers), ['claude-daemon']);
  assert.equal(servers['claude-daemon']!.command, 'node');
  assert.deepEqual(servers['claude-daemon']!.args, ['${CLAUDE_PLUGIN_ROOT}/server.mjs']);
  assert.ok(fs.existsSync(path.join(PLUGIN, 'server.mjs')));
});

test('plugin launcher: runs `claude-daemon mcp` of the package around it, and says what to do when it cannot', () => {
  // `mcp --help` goes through the launcher to this checkout's dist/bin.js, which answers with the verb's usage.
  const help = spawnSync(process.execPath, [path.join(PLUGIN, 'server.mjs'), '--help'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /usage: claude-daemon mcp/);
  const missing = spawnSync(process.execPath, [path.join(PLUGIN, 'server.mjs')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CLAUDE_DAEMON_BIN: '/nonexistent/claude-daemon' },
    timeout: 30_000,
  });
  assert.equal(missing.status, 127);
  assert.equal(missing.stdout, '', 'nothing but protocol messages on stdout');
  assert.match(missing.stderr, /cannot run \/nonexistent\/claude-daemon.*CLAUDE_DAEMON_BIN/);
});

test('plugin skill: frontmatter name and description, every tool named, the two prohibitions', () => {
  const text = fs.readFileSync(path.join(PLUGIN, 'skills', 'claude-daemon', 'SKILL.md'), 'utf8');
  const front = /^---\n([^]*?)\n---\n/.exec(text);
  assert.ok(front, 'SKILL.md starts with YAML frontmatter');
  assert.match(front[1]!, /^name: claude-daemon$/m);
  assert.match(front[1]!, /^description: .{40,}$/m);
  assert.match(text, /mcp__plugin_claude-daemon_claude-daemon__<tool>/);
  assert.match(text, /mcp__claude-daemon__<tool>/);
  for (const tool of TOOLS) assert.ok(text.includes(`\`${tool}`), `the skill names ${tool}`);
  assert.match(text, /pkill node/);
  assert.match(text, /second daemon/);
});

let mock: MockAnthropic;
before(async () => {
  mock = await startMockAnthropic();
});
after(async () => {
  await mock?.close();
});

test('claude plugin validate accepts the plugin manifest and its one-plugin marketplace', () => {
  const env = { ...process.env, ...offlineClaudeEnv(mock) };
  for (const file of ['plugin.json', 'marketplace.json']) {
    const r = spawnSync(env['CLAUDE_BIN']!, ['plugin', 'validate', path.join(PLUGIN, '.claude-plugin', file)], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    assert.equal(r.status, 0, `${file}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /Validation passed/);
  }
});

/** Posts one Messages request and returns the SSE events' data objects. */
async function post(body: object): Promise<Array<Record<string, unknown>>> {
  const res = await fetch(`${mock.url}/v1/messages?beta=true`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ stream: true, ...body }) });
  const text = await res.text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => JSON.parse(l.slice(6)) as Record<string, unknown>);
}

/** The text a streamed reply carries. */
const textOf = (events: Array<Record<string, unknown>>): string =>
  events.filter((e) => (e['delta'] as { type?: string } | undefined)?.type === 'text_delta').map((e) => (e['delta'] as { text: string }).text).join('');

test('mock script: the step is chosen by the assistant turns so far, and sees the earlier tool results', async () => {
  const seen: Array<{ step: number; results: string[]; tools: string[] }> = [];
  mock.script('SCRIPTED_CASE', [
    (r) => {
      seen.push({ step: r.step, results: r.toolResults.map((t) => t.text), tools: r.tools });
      return [{ type: 'text', text: 'calling' }, { type: 'tool_use', name: 'mcp__x__a', input: { n: 1 } }];
    },
    (r) => {
      seen.push({ step: r.step, results: r.toolResults.map((t) => t.text), tools: r.tools });
      return `done with ${r.lastToolResult}`;
    },
  ]);
  const first = await post({ tools: [{ name: 'mcp__x__a' }], messages: [{ role: 'user', content: 'SCRIPTED_CASE go' }] });
  const starts = first.filter((e) => e['type'] === 'content_block_start').map((e) => e['content_block'] as Record<string, unknown>);
  assert.deepEqual(starts.map((b) => b['type']), ['text', 'tool_use']);
  assert.equal(starts[1]!['name'], 'mcp__x__a');
  const json = first.filter((e) => (e['delta'] as { type?: string } | undefined)?.type === 'input_json_delta').map((e) => (e['delta'] as { partial_json: string }).partial_json).join('');
  assert.deepEqual(JSON.parse(json), { n: 1 });
  assert.equal((first.find((e) => e['type'] === 'message_delta')!['delta'] as { stop_reason: string }).stop_reason, 'tool_use');

  const second = await post({
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'SCRIPTED_CASE go' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'calling' }, { type: 'tool_use', id: 't1', name: 'mcp__x__a', input: { n: 1 } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'A SAID 42' }] }] },
    ],
  });
  assert.equal(textOf(second), 'done with A SAID 42');
  assert.equal((second.find((e) => e['type'] === 'message_delta')!['delta'] as { stop_reason: string }).stop_reason, 'end_turn');
  assert.deepEqual(seen, [
    { step: 0, results: [], tools: ['mcp__x__a'] },
    { step: 1, results: ['A SAID 42'], tools: [] },
  ]);

  // Past the script's end: a text reply saying so, never a hung request.
  const third = await post({ messages: [{ role: 'user', content: 'SCRIPTED_CASE go' }, { role: 'assistant', content: 'a' }, { role: 'user', content: 'SCRIPTED_CASE go' }, { role: 'assistant', content: 'b' }, { role: 'user', content: 'SCRIPTED_CASE go' }] });
  assert.equal(textOf(third), 'MOCK SCRIPT: no step 2 (the script has 2)');
  // Unscripted prompts keep the built-in behaviour.
  const plain = await post({ messages: [{ role: 'user', content: 'hello there' }] });
  assert.equal(textOf(plain), 'MOCK REPLY: hello there');
});
