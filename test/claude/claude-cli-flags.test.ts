/**
 * `claude-daemon claude` covers what agents pass to `claude`: each flag becomes its spawn_claude
 * parameter and reaches claude's argv (seen by the fake stand-in, which echoes its argv and chosen
 * variables), arguments after `--` pass through, shell mistakes are usage errors, and one run of
 * the REAL CLI against the mock shows the flags take effect (model from --env, system prompts,
 * tools, session id, structured output, the budget).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { DaemonClient } from '../../src/index.js';
import type { ClaudeRunInfo } from '../../src/protocol/schemas/claude.js';
import { verb as claudeVerb } from '../../src/cli/commands/claude.js';
import { spawnParams } from '../../src/cli/claude-flags.js';
import { UsageError } from '../../src/cli/verb.js';
import { buildClaudeArgs } from '../../src/daemon/claude/argv.js';
import { FIXTURES, runCli, type TestDaemon } from '../helpers/daemon.js';
import type { MockAnthropic } from '../helpers/mock-anthropic.js';
import { startClaudeTestDaemon, stopClaudeTestDaemon } from '../helpers/claude-daemon.js';

const FAKE = path.join(FIXTURES, 'fake-claude', 'claude');
const HEAD = ['-p', '--output-format', 'stream-json', '--verbose'];

let mock: MockAnthropic;
let d: TestDaemon;
let c: DaemonClient;
let cwd: string;
before(async () => void ({ mock, d, c, cwd } = await startClaudeTestDaemon()));
after(() => stopClaudeTestDaemon({ d, mock }));

/** The CLI with the socket given before any `--` (everything after `--` goes to claude). */
const cli = (args: string[]): ReturnType<typeof runCli> => {
  const dash = args.indexOf('--');
  const at = dash === -1 ? args.length : dash;
  return runCli([...args.slice(0, at), '--socket', d.socket, ...args.slice(at)], { timeoutMs: 60_000 });
};

test('every claude flag reaches claude\'s argv, --env its environment, and arguments after -- pass through', async () => {
  const sid = randomUUID();
  const schema = '{"type":"object","properties":{"name":{"type":"string"}}}';
  const r = await cli([
    'claude', 'FAKE_ECHO_ARGV all flags', '--wait', '--json', '--cwd', cwd, '--id', 'flags',
    '--env', `CLAUDE_BIN=${FAKE}`, '--env', 'FAKE_ECHO_VARS=FOO,EMPTY', '--env', 'FOO=a=b', '--env', 'EMPTY=',
    '--model', 'm1', '--max-turns', '3', '--allowed-tools', 'Bash', '--allowed-tools', 'Bash(git *)',
    '--disallowed-tools', 'WebFetch', '--permission-mode', 'plan', '--system-prompt', 'SYS', '--append-system-prompt', 'MORE',
    '--resume', 'an-old-session', '--session-id', sid, '--mcp-config', 'mcp.json', '--mcp-config', '{"mcpServers":{}}',
    '--max-budget-usd', '0.5', '--json-schema', schema,
    '--', '--add-dir', '/tmp', '--fork-session',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { result: string };
  const echo = JSON.parse(out.result) as { argv: string[]; env: Record<string, string | null> };
  assert.deepEqual(echo.argv, [
    ...HEAD,
    '--model', 'm1', '--system-prompt', 'SYS', '--append-system-prompt', 'MORE',
    '--allowedTools', 'Bash', 'Bash(git *)', '--disallowedTools', 'WebFetch', '--permission-mode', 'plan', '--max-turns', '3',
    '--mcp-config', path.resolve('mcp.json'), '{"mcpServers":{}}', '--resume', 'an-old-session', '--session-id', sid,
    '--max-budget-usd', '0.5', '--json-schema', schema,
    '--add-dir', '/tmp', '--fork-session',
    '--', 'FAKE_ECHO_ARGV all flags',
  ]);
  assert.deepEqual(echo.env, { FOO: 'a=b', EMPTY: '' });
  const rec = await c.processInfo('flags');
  assert.equal(rec.cwd, cwd);
  assert.equal(rec.cmd[0], FAKE, '--env CLAUDE_BIN chose the binary');
});

test('a prompt starting with - is still the prompt; no flags gives the bare command line', async () => {
  const r = await cli(['claude', '--wait', '--json', '--env', `CLAUDE_BIN=${FAKE}`, '--', '-FAKE_ECHO_ARGV looks like a flag']);
  assert.equal(r.code, 0, r.stderr);
  const echo = JSON.parse((JSON.parse(r.stdout) as { result: string }).result) as { argv: string[] };
  assert.deepEqual(echo.argv, [...HEAD, '--', '-FAKE_ECHO_ARGV looks like a flag']);
});

test('shell mistakes are usage errors naming the flag: exit 2 from the CLI, and nothing is started', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['two', 'words'], /exactly one PROMPT.*after `--`/],
    [['p', 'bare'], /exactly one PROMPT/],
    [[], /give the PROMPT/],
    [['p', '--max-turns', '0'], /--max-turns takes a whole number of at least 1/],
    [['p', '--max-turns', '2.5'], /--max-turns/],
    [['p', '--max-budget-usd', '0'], /--max-budget-usd takes an amount of dollars above 0/],
    [['p', '--max-budget-usd', 'lots'], /--max-budget-usd/],
    [['p', '--env', 'NOEQUALS'], /--env takes KEY=VALUE/],
    [['p', '--permission-mode', 'yolo'], /--permission-mode takes one of acceptEdits, auto, bypassPermissions, default, dontAsk, plan/],
    [['p', '--session-id', 'not-a-uuid'], /--session-id takes a UUID/],
    [['p', '--json-schema', 'schema.json'], /--json-schema takes the JSON text/],
    [['p', '--allowed-tools', ''], /--allowed-tools takes a non-empty value/],
  ];
  for (const [args, message] of cases) {
    const [positionals, values] = splitArgs(args);
    assert.throws(() => spawnParams(values, positionals), (err: Error) => err instanceof UsageError && message.test(err.message), args.join(' '));
  }
  const before = (await c.listProcesses()).processes.length;
  for (const args of [['claude', 'two', 'words'], ['claude', 'p', '--max-turns', 'x']]) {
    const r = await cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /usage: claude-daemon claude PROMPT/);
  }
  assert.equal((await c.listProcesses()).processes.length, before, 'no run was started');
});

/** A tiny stand-in for the CLI's parseArgs: `--flag value` pairs (repeatable ones as lists), the rest positional. */
function splitArgs(args: string[]): [string[], Record<string, string | string[]>] {
  const multiple = new Set(['env', 'allowed-tools', 'disallowed-tools', 'mcp-config']);
  const positionals: string[] = [];
  const values: Record<string, string | string[]> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) {
      positionals.push(a);
      continue;
    }
    const name = a.slice(2);
    const v = args[++i]!;
    if (multiple.has(name)) values[name] = [...((values[name] as string[] | undefined) ?? []), v];
    else values[name] = v;
  }
  return [positionals, values];
}

test('claude --help documents every option it takes', async () => {
  const r = await cli(['claude', '--help']);
  assert.equal(r.code, 0);
  for (const name of Object.keys(claudeVerb.options ?? {})) assert.match(r.stdout, new RegExp(`^  --${name}\\b`, 'm'), `--${name} is explained`);
  assert.match(r.stdout, /-- CLAUDE_ARGS/);
});

test('spawn_claude: max_budget_usd and json_schema are typed (an object schema is sent as its JSON text); bad values are INVALID_PARAMS', async () => {
  assert.deepEqual(buildClaudeArgs({ prompt: 'p', max_budget_usd: 1.25, json_schema: { type: 'object' } }), [...HEAD, '--max-budget-usd', '1.25', '--json-schema', '{"type":"object"}', '--', 'p']);
  const rec = await c.spawnClaude({ prompt: 'FAKE_ECHO_ARGV wire', env: { CLAUDE_BIN: FAKE }, json_schema: { type: 'object', required: ['x'] }, max_budget_usd: 2 });
  assert.deepEqual(rec.cmd.slice(1), [...HEAD, '--max-budget-usd', '2', '--json-schema', '{"type":"object","required":["x"]}', '--', 'FAKE_ECHO_ARGV wire']);
  await c.waitProcess({ process_id: rec.process_id, timeout_s: 20 });
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ json_schema: 'not json' }, /json_schema.*JSON Schema/],
    [{ json_schema: '[1]' }, /json_schema/],
    [{ json_schema: 42 }, /json_schema/],
    [{ max_budget_usd: 0 }, /max_budget_usd/],
    [{ max_budget_usd: '1' }, /max_budget_usd/],
  ];
  for (const [params, message] of bad) {
    const err = await c.spawnClaude({ prompt: 'p', env: { CLAUDE_BIN: FAKE }, ...params } as never).then(() => undefined, (e: unknown) => e as { code: string; message: string });
    assert.equal(err?.code, 'INVALID_PARAMS', JSON.stringify(params));
    assert.match(err.message, message);
  }
});

test('real claude: the flags take effect (model via --env, system prompts, tools, session id, structured output tool, budget)', async () => {
  const sid = randomUUID();
  const [r, broke] = await Promise.all([
    cli([
      'claude', 'MOCK_STRUCTURED:{"name":"Ada"}| hello flags', '--wait', '--cwd', cwd, '--id', 'real-flags',
      '--env', 'ANTHROPIC_MODEL=env-model-x', '--system-prompt', 'SYS-A', '--append-system-prompt', 'SYS-B',
      '--allowed-tools', 'Bash', '--disallowed-tools', 'WebFetch', '--permission-mode', 'default', '--max-turns', '3',
      '--session-id', sid, '--mcp-config', '{"mcpServers":{}}', '--max-budget-usd', '5',
      '--json-schema', '{"type":"object","properties":{"name":{"type":"string"}}}',
      '--', '--strict-mcp-config',
    ]),
    cli(['claude', 'spend it all', '--wait', '--cwd', cwd, '--id', 'real-budget', '--max-budget-usd', '0.0000001']),
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '{"name":"Ada"}\n', 'with --json-schema the result text is the structured output');
  const req = mock.messagesMatching('hello flags')[0];
  assert.ok(req?.body, 'claude asked the mock');
  assert.equal(req.body.model, 'env-model-x', '--env reached claude');
  const system = JSON.stringify((req.body as { system?: unknown }).system);
  assert.ok(system.includes('SYS-A') && system.includes('SYS-B'), 'both system prompts reached the request');
  const tools = ((req.body as { tools?: Array<{ name: string }> }).tools ?? []).map((t) => t.name);
  assert.ok(tools.includes('StructuredOutput'), `--json-schema added claude's structured-output tool: ${tools.join(',')}`);
  assert.ok(tools.includes('Bash') && !tools.includes('WebFetch'), `--disallowed-tools removed WebFetch: ${tools.join(',')}`);
  assert.equal(req.headers['x-claude-code-session-id'], sid);
  assert.equal(((await c.processInfo('real-flags')).claude as ClaudeRunInfo).session_id, sid);

  assert.equal(broke.code, 1, broke.stderr);
  assert.match(broke.stderr, /^real-budget failed: Reached maximum budget \(\$1e-7\) \(error_max_budget_usd\)\n$/);
});
