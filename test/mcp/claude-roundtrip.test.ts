/**
 * The REAL claude CLI as an MCP client of `claude-daemon mcp`, offline against the mock Messages
 * API: a parent `claude -p` whose scripted model calls spawn_claude, wait and claude_result; the
 * daemon runs the child claude against the same mock; the parent's final text quotes the child's.
 * Once through `--mcp-config`, once through the shipped plugin (`--plugin-dir plugin`).
 *
 * The parent's MCP server reaches this file's test daemon through CLAUDE_DAEMON_SOCKET (never the
 * default socket), with CLAUDE_DAEMON_HOME pointing at an empty private directory: had it started a
 * daemon of its own instead, that directory would not stay empty. MCP_CONNECTION_NONBLOCKING=0
 * makes the CLI wait for the server before its first request, so a loaded machine (a cold start
 * past the CLI's ~2 s pre-wait) cannot turn `connected` into `pending`; start-up time is the bench's.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { DaemonClient } from '../../src/index.js';
import { BIN, ROOT, startTestDaemon, tempDir, type TestDaemon } from '../helpers/daemon.js';
import { offlineClaudeEnv, startMockAnthropic, type MockAnthropic, type ScriptStep } from '../helpers/mock-anthropic.js';
import { waitFor } from '../helpers/wait.js';

/** Every tool the server must offer, by its MCP name. */
const TOOLS = [
  'spawn_claude',
  'spawn_process',
  'list_processes',
  'process_info',
  'read_output',
  'wait',
  'claude_result',
  'kill_process',
  'remove_process',
  'load_module',
  'call_function',
  'list_modules',
  'ping',
  'send_message',
  'interrupt',
  'close_input',
  'group_list',
  'group_set',
];
const PLUGIN_DIR = path.join(ROOT, 'plugin');
/** How Claude Code names the tools of a server it was given directly, and of the plugin's server. */
const DIRECT_PREFIX = 'mcp__claude-daemon__';
const PLUGIN_PREFIX = 'mcp__plugin_claude-daemon_claude-daemon__';

let mock: MockAnthropic;
let d: TestDaemon;
let c: DaemonClient;
let claudeEnv: Record<string, string>;
let cwd: string;
let privateHome: string;
/** Marks the parent claude and what it starts (its MCP server), so the test can find leftovers. */
const TAG = `cd-mcp-rt-${process.pid}`;

before(async () => {
  mock = await startMockAnthropic();
  claudeEnv = offlineClaudeEnv(mock);
  d = await startTestDaemon({ env: claudeEnv });
  c = await d.client();
  cwd = path.join(d.dir, 'work');
  fs.mkdirSync(cwd);
  privateHome = tempDir('cd-mcp-home-');
});
after(async () => {
  await d?.stop({ killProcesses: true });
  await mock?.close();
});

/** One stream-json line of the parent run. */
type StreamLine = { type: string; subtype?: string; message?: { content?: Array<Record<string, unknown>> } } & Record<string, unknown>;

/** Runs the real claude CLI (offline, tagged, pointed at the test daemon) to its end. */
function runClaude(args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = {
    ...process.env,
    ...claudeEnv,
    CLAUDE_DAEMON_SOCKET: d.socket,
    CLAUDE_DAEMON_HOME: privateHome,
    MCP_CONNECTION_NONBLOCKING: '0',
    CD_MCP_TEST_TAG: TAG,
    ...extraEnv,
  };
  return new Promise((resolve, reject) => {
    const p = spawn(claudeEnv['CLAUDE_BIN']!, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    p.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => p.kill('SIGKILL'), 120_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs a parent `claude -p` to its end and parses its stream-json output. */
async function runParent(prompt: string, args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number | null; lines: StreamLine[]; stderr: string }> {
  const r = await runClaude(['-p', prompt, '--output-format', 'stream-json', '--verbose', ...args], extraEnv);
  const lines = r.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as StreamLine);
  return { code: r.code, lines, stderr: r.stderr };
}

/** The process id in a spawn_claude tool result (its JSON, or the text summary naming it). */
function processIdIn(text: string | undefined): string {
  const m = /"process_id"\s*:\s*"([A-Za-z0-9._-]+)"/.exec(text ?? '') ?? /\b(p-[0-9a-f]{8})\b/.exec(text ?? '');
  if (!m) throw new Error(`no process id in the spawn_claude result: ${text}`);
  return m[1]!;
}

/** The parent's model: spawn a child run, wait for it, read its result, quote it. */
function parentScript(prefix: string, childPrompt: string): ScriptStep[] {
  return [
    () => [
      { type: 'text', text: 'Starting a child run.' },
      { type: 'tool_use', name: `${prefix}spawn_claude`, input: { prompt: childPrompt, cwd } },
    ],
    (r) => [{ type: 'tool_use', name: `${prefix}wait`, input: { process_ids: [processIdIn(r.lastToolResult)], mode: 'all', timeout_s: 90 } }],
    (r) => [{ type: 'tool_use', name: `${prefix}claude_result`, input: { process_id: processIdIn(r.toolResults[0]?.text) } }],
    (r) => `PARENT GOT: ${r.lastToolResult ?? '(nothing)'}`,
  ];
}

/** Processes still carrying this file's tag in their environment (the parent claude, its MCP server). */
function taggedProcesses(): number[] {
  const found: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (fs.readFileSync(`/proc/${name}/environ`, 'utf8').split('\0').includes(`CD_MCP_TEST_TAG=${TAG}`)) found.push(Number(name));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/** The checks both cases share: the tool calls, the quote, the child run, nothing left behind. */
async function checkRoundTrip(run: Awaited<ReturnType<typeof runParent>>, prefix: string, childPrompt: string): Promise<void> {
  const diag = `stderr: ${run.stderr}\nstream: ${run.lines.map((l) => JSON.stringify(l)).join('\n').slice(0, 6000)}`;
  const result = run.lines.at(-1);
  assert.equal(result?.type, 'result', diag);
  assert.equal(result?.['subtype'], 'success', diag);
  assert.equal(result?.['is_error'], false, diag);
  assert.equal(run.code, 0, diag);

  const calls = run.lines.flatMap((l) => (l.type === 'assistant' ? (l.message?.content ?? []) : [])).filter((b) => b['type'] === 'tool_use');
  assert.deepEqual(calls.map((b) => b['name']), [`${prefix}spawn_claude`, `${prefix}wait`, `${prefix}claude_result`], diag);
  const toolResults = run.lines.flatMap((l) => (l.type === 'user' ? (l.message?.content ?? []) : [])).filter((b) => b['type'] === 'tool_result');
  assert.equal(toolResults.length, 3, diag);
  for (const r of toolResults) assert.notEqual(r['is_error'], true, `a tool call failed: ${JSON.stringify(r)}\n${diag}`);

  // The child ran through the daemon, against the mock, and the parent quotes its answer.
  const childReply = `MOCK REPLY: ${childPrompt}`;
  assert.match(String(result?.['result']), new RegExp(`^PARENT GOT: [^]*${childReply}`), diag);
  assert.ok(mock.messagesMatching(childPrompt).length >= 1, 'the child claude asked the mock');
  const child = (await c.listProcesses()).processes.find((p) => p.cmd.includes(childPrompt));
  assert.ok(child, `the daemon has the child run: ${JSON.stringify((await c.listProcesses()).processes)}`);
  assert.equal(child.status, 'exited');
  assert.equal((child.claude as { is_error: boolean | null; result: string | null }).is_error, false);
  assert.equal((child.claude as { result: string | null }).result, childReply);
  await c.removeProcess(child.process_id);

  // The MCP server used the test daemon: it started none of its own.
  assert.deepEqual(fs.readdirSync(privateHome), [], 'the MCP server started a daemon of its own');
  // The parent's MCP server went away with the parent.
  await waitFor(() => taggedProcesses().length === 0, { what: 'the MCP server to exit with its claude', timeoutMs: 15_000 });
}

/** The init line's MCP view: the server connected and every tool offered under `prefix`. */
function checkInit(init: StreamLine | undefined, serverName: string, prefix: string): void {
  assert.equal(init?.type, 'system');
  assert.equal(init?.subtype, 'init');
  const servers = init?.['mcp_servers'] as Array<{ name: string; status: string }>;
  assert.deepEqual(servers.find((s) => s.name === serverName), { name: serverName, status: 'connected' }, JSON.stringify(servers));
  const tools = init?.['tools'] as string[];
  const offered = tools.filter((t) => t.startsWith(prefix)).sort();
  assert.deepEqual(offered, TOOLS.map((t) => prefix + t).sort(), `init tools: ${JSON.stringify(tools)}`);
}

test('claude -p with --mcp-config: the model spawns a child run, waits, reads its result and quotes it', { timeout: 180_000 }, async () => {
  const marker = 'MCP_RT_CONFIG';
  const childPrompt = 'child of the mcp-config parent: say something';
  mock.script(marker, parentScript(DIRECT_PREFIX, childPrompt));
  // The registration form the README gives (`claude-daemon mcp`, no flags); the env block repeats the
  // inherited socket and home so that the server can never reach the default socket.
  const env = { CLAUDE_DAEMON_SOCKET: d.socket, CLAUDE_DAEMON_HOME: privateHome };
  const config = { mcpServers: { 'claude-daemon': { type: 'stdio', command: process.execPath, args: [BIN, 'mcp'], env } } };
  const run = await runParent(`${marker} fan this out`, [
    '--mcp-config',
    JSON.stringify(config),
    '--strict-mcp-config',
    '--allowedTools',
    `${DIRECT_PREFIX}spawn_claude,${DIRECT_PREFIX}wait,${DIRECT_PREFIX}claude_result`,
  ]);
  checkInit(run.lines[0], 'claude-daemon', DIRECT_PREFIX);
  await checkRoundTrip(run, DIRECT_PREFIX, childPrompt);
});

test('claude -p with --plugin-dir plugin: init lists the plugin, its skill and its server; the same round trip works', { timeout: 180_000 }, async () => {
  const marker = 'MCP_RT_PLUGIN';
  const childPrompt = 'child of the plugin parent: say something';
  mock.script(marker, parentScript(PLUGIN_PREFIX, childPrompt));
  // A server-wide allowance (`mcp__<server>`), as the README tells headless users.
  const run = await runParent(`${marker} fan this out`, ['--plugin-dir', PLUGIN_DIR, '--allowedTools', PLUGIN_PREFIX.replace(/__$/, '')]);
  const init = run.lines[0];
  checkInit(init, 'plugin:claude-daemon:claude-daemon', PLUGIN_PREFIX);
  const plugins = init?.['plugins'] as Array<{ name: string; path: string }>;
  assert.ok(
    plugins.some((p) => p.name === 'claude-daemon' && path.resolve(p.path) === PLUGIN_DIR),
    `init plugins: ${JSON.stringify(plugins)}`,
  );
  assert.ok((init?.['skills'] as string[]).includes('claude-daemon:claude-daemon'), `init skills: ${JSON.stringify(init?.['skills'])}`);
  await checkRoundTrip(run, PLUGIN_PREFIX, childPrompt);
});

test('installed the usual way (claude plugin marketplace add plugin/, claude plugin install): init lists the plugin, its skill and its connected server', { timeout: 180_000 }, async () => {
  // A fresh claude HOME, as a user who adds the package's folder as a marketplace and installs from it.
  const home = path.join(tempDir('cd-mcp-install-'), 'home');
  fs.mkdirSync(home);
  for (const args of [['plugin', 'marketplace', 'add', PLUGIN_DIR], ['plugin', 'install', 'claude-daemon@claude-daemon']]) {
    const r = await runClaude(args, { HOME: home });
    assert.equal(r.code, 0, `claude ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  }
  // No --plugin-dir: the plugin comes from the user's settings.
  const run = await runParent('hello from an installed plugin', [], { HOME: home });
  const init = run.lines[0];
  checkInit(init, 'plugin:claude-daemon:claude-daemon', PLUGIN_PREFIX);
  const plugins = init?.['plugins'] as Array<{ name: string; source: string }>;
  assert.ok(plugins.some((p) => p.name === 'claude-daemon' && p.source === 'claude-daemon@claude-daemon'), `init plugins: ${JSON.stringify(plugins)}`);
  assert.ok((init?.['skills'] as string[]).includes('claude-daemon:claude-daemon'));
  assert.equal(run.lines.at(-1)?.['result'], 'MOCK REPLY: hello from an installed plugin');
  await waitFor(() => taggedProcesses().length === 0, { what: 'the MCP server to exit with its claude', timeoutMs: 15_000 });
});
