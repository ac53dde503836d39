/**
 * python/client.py as a user meets it: the original design's walk-through run verbatim from the
 * project root, every CLI verb with the TypeScript CLI's argument rules, output and exit codes, the
 * library's tracked claude runs (the real claude CLI against the mock API), docs/modules.md's
 * Python example, and the file copied alone next to a script.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { DaemonClient } from '../../src/index.js';
import type { ClaudeRunInfo } from '../../src/protocol/schemas/claude.js';
import type { ProcessRecord } from '../../src/protocol/schemas/processes.js';
import { ROOT, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { CLAUDE_BIN_PATH, offlineClaudeEnv, startMockAnthropic, type MockAnthropic } from '../helpers/mock-anthropic.js';

const CLIENT = path.join(ROOT, 'python', 'client.py');

let base: string;
let mock: MockAnthropic;
let d: TestDaemon;
let c: DaemonClient;
before(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'cd-pyclient-'));
  mock = await startMockAnthropic();
  // The daemon finds the real claude CLI through CLAUDE_BIN only (it is not on PATH), as a user's would.
  d = await startTestDaemon({ dir: path.join(base, 'd'), env: offlineClaudeEnv(mock, base) });
  fs.copyFileSync(path.join(ROOT, 'claude_modules', 'example.ts'), path.join(d.modulesDir, 'example.ts'));
  c = await d.client();
});
after(async () => {
  await d?.stop();
  await mock?.close();
  fs.rmSync(base, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command (no shell unless asked) and collects its output; env is laid over a clean copy of ours. */
function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    const p = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    p.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} timed out; stdout=${stdout} stderr=${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `python3 python/client.py ARGS` from the project root against the test daemon (found through the environment). */
function py(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return run('python3', [CLIENT, ...args], { env: { CLAUDE_DAEMON_SOCKET: d.socket, ...env } });
}

/** A Python snippet with python/ on sys.path; its last stdout line is parsed as JSON. */
async function pyLib<T>(code: string): Promise<T> {
  const r = await run('python3', ['-c', `import sys, json\nsys.path.insert(0, ${JSON.stringify(path.join(ROOT, 'python'))})\n${code}`], { env: { CLAUDE_DAEMON_SOCKET: d.socket } });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as T;
}

const claudeOf = (r: ProcessRecord): ClaudeRunInfo => r.claude as ClaudeRunInfo;

const WALK_THROUGH = [
  'python3 python/client.py ping',
  'python3 python/client.py load example',
  'python3 python/client.py call example hello Claude',
  'python3 python/client.py spawn claude -p "test command"',
  'python3 python/client.py list',
];

test("the original design's walk-through runs verbatim from the project root (README shows it)", async () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  assert.ok(readme.includes(WALK_THROUGH.join('\n')), 'README.md shows the walk-through as one block');
  const sh = (line: string): Promise<Run> => run('sh', ['-c', line], { env: { CLAUDE_DAEMON_SOCKET: d.socket } });
  const [ping, load, call, spawnRun, list] = WALK_THROUGH;

  const p = await sh(ping!);
  assert.equal(p.code, 0, p.stderr);
  assert.match(p.stdout, new RegExp(`^pong: claude-daemon \\S+, pid ${d.proc.pid}, up \\S+, no max running, socket ${d.socket}, no keeper\n$`));

  const l = await sh(load!);
  assert.equal(l.code, 0, l.stderr);
  assert.match(l.stdout, /^loaded example v\d+ \(typescript\) from \S+example\.ts\n {2}hello\(name\)\n$/);

  const k = await sh(call!);
  assert.deepEqual([k.code, k.stdout, k.stderr], [0, 'Hello, Claude!\n', '']);

  const s = await sh(spawnRun!);
  assert.equal(s.code, 0, s.stderr);
  const id = /^(claude-[0-9a-f]{8}) running \(pid \d+\): /.exec(s.stdout)?.[1];
  assert.ok(id, s.stdout);

  const ls = await sh(list!);
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, /^ID +STATUS +PID +TIME +COMMAND\n/);
  assert.match(ls.stdout, new RegExp(`^${id} .* claude \\S+ \\$\\S* 'test command'$`, 'm'));

  // A tracked run: CLAUDE_BIN honoured, the claude object parsed, claude_result works.
  const r = await c.claudeResult({ process_id: id, wait: true, timeout_s: 60 });
  assert.deepEqual([r.result, r.is_error, r.running], ['MOCK REPLY: test command', false, false]);
  const rec = await c.processInfo(id);
  assert.equal(rec.cmd[0], CLAUDE_BIN_PATH);
  assert.equal(rec.cwd, ROOT);
  assert.equal(typeof claudeOf(rec).total_cost_usd, 'number');
  const done = await sh(list!);
  assert.match(done.stdout, new RegExp(`^${id} +exited 0 .* claude done \\$[0-9.e-]+ 'test command'$`, 'm'));
  assert.match(done.stdout, /^\(1 exited, \$[0-9.e-]+ claude cost\)$/m);
  await c.removeProcess(id);
});

test('library: spawn_claude_process(argv) is a tracked run (CLAUDE_BIN, flags mapped or passed through); spawn_claude, claude_result, wait_process', async () => {
  const out = await pyLib<{ first: ProcessRecord; res: Record<string, unknown>; info: ProcessRecord; second: ProcessRecord; waited: ProcessRecord; third: ProcessRecord; res3: Record<string, unknown> }>(`
from client import spawn_claude_process, spawn_claude, claude_result, process_info, wait_process
first = spawn_claude_process(['claude', '-p', 'analyze'])
res = claude_result(first['process_id'], wait=True)
info = process_info(first['process_id'])
second = spawn_claude_process([${JSON.stringify(CLAUDE_BIN_PATH)}, '--model', 'claude-py-model', '-p', '--max-turns', '3', '--output-format', 'text', '--bare', 'second run'], name='py-second')
waited = wait_process(second['process_id'], timeout_s=60)
third = spawn_claude('third run', model='claude-py-3', process_id='py-third', extra_args=['--bare'])
res3 = claude_result('py-third', wait=True, timeout_s=60)
print(json.dumps(dict(first=first, res=res, info=info, second=second, waited=waited, third=third, res3=res3)))
`);
  assert.ok(out.first.claude, 'the record has the claude object');
  assert.equal(out.first.cmd[0], CLAUDE_BIN_PATH, 'the daemon resolved claude through its CLAUDE_BIN');
  assert.deepEqual(out.first.cmd.slice(1), ['-p', '--output-format', 'stream-json', '--verbose', '--', 'analyze']);
  assert.equal(out.res['result'], 'MOCK REPLY: analyze');
  assert.equal(out.res['is_error'], false);
  assert.equal(claudeOf(out.info).state, 'done');
  assert.ok((claudeOf(out.info).total_cost_usd ?? 0) > 0, 'cost parsed');

  assert.equal(out.second.name, 'py-second');
  assert.deepEqual(out.second.cmd, [CLAUDE_BIN_PATH, '-p', '--output-format', 'stream-json', '--verbose', '--model', 'claude-py-model', '--max-turns', '3', '--bare', '--', 'second run']);
  assert.equal(out.waited.status, 'exited');
  assert.equal(claudeOf(out.waited).result, 'MOCK REPLY: second run');
  assert.ok(mock.requests.some((q) => q.body?.model === 'claude-py-model' && q.prompt.includes('second run')), 'the model flag reached the API');

  assert.equal(out.third.process_id, 'py-third');
  assert.ok(out.third.cmd.includes('--bare'));
  assert.deepEqual([out.res3['result'], out.res3['is_error']], ['MOCK REPLY: third run', false]);

  const bad = await run('python3', ['-c', `import sys\nsys.path.insert(0, ${JSON.stringify(path.join(ROOT, 'python'))})\nfrom client import spawn_claude_process\nspawn_claude_process(['claude', '-p'])`], { env: { CLAUDE_DAEMON_SOCKET: d.socket } });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /ValueError: the claude command line has no prompt/);
  for (const id of ['py-third', out.first.process_id, out.second.process_id]) await c.removeProcess(id);
});

test("docs/modules.md's Python example runs as written", async () => {
  const doc = fs.readFileSync(path.join(ROOT, 'docs', 'modules.md'), 'utf8');
  const code = /```python\n(# claude_modules\/(\w+)\.py\n[\s\S]*?)```/.exec(doc);
  assert.ok(code, 'docs/modules.md has a Python example naming its file');
  fs.writeFileSync(path.join(d.modulesDir, `${code[2]}.py`), code[1]!);
  assert.deepEqual(await c.callFunction('my_module', 'process_data', ['hello']), { processed: 'HELLO' });
  const id = await c.callFunction<string>('my_module', 'analyze', ['README.md']);
  const r = await c.claudeResult({ process_id: id, wait: true, timeout_s: 60 });
  assert.deepEqual([r.result, r.is_error], ['MOCK REPLY: analyze README.md', false]);
  const viaCli = await py(['call', 'my_module', 'analyze', 'docs/', '--kwargs', '{"model": "claude-doc-model"}', '--json']);
  assert.equal(viaCli.code, 0, viaCli.stderr);
  const id2 = JSON.parse(viaCli.stdout) as string;
  await c.claudeResult({ process_id: id2, wait: true, timeout_s: 60 });
  assert.equal(claudeOf(await c.processInfo(id2)).model, 'claude-doc-model');
  await c.removeProcess(id);
  await c.removeProcess(id2);
});

test('exit codes: 1 error reply (code on stderr), 2 usage, 3 no daemon; --json errors are one JSON line on stdout', async () => {
  const nf = await py(['info', 'nope']);
  assert.deepEqual([nf.code, nf.stdout], [1, '']);
  assert.match(nf.stderr, /^error \[PROCESS_NOT_FOUND\]: .*nope/);

  for (const args of [['--json', 'info', 'nope'], ['info', 'nope', '--json']]) {
    const j = await py(args);
    assert.equal(j.code, 1);
    const lines = j.stdout.split('\n').filter(Boolean);
    assert.equal(lines.length, 1, j.stdout);
    assert.equal(j.stderr, '', 'with --json the error is only on stdout');
    const e = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.deepEqual([e['success'], e['code'], typeof e['error']], [false, 'PROCESS_NOT_FOUND', 'string']);
  }

  for (const args of [['call', 'example'], ['bogus'], ['list', '--bogus'], ['wait'], ['kill', 'x', '--grace', 'soon'], ['request', 'ping', '{nope'], [], ['spawn'], ['logs', 'a', 'b']]) {
    const u = await py(args);
    assert.equal(u.code, 2, `${args.join(' ')}: ${u.stderr}`);
    assert.match(u.stderr, /usage|--help/, args.join(' '));
  }
  const uj = await py(['--json', 'call', 'example']);
  assert.equal(uj.code, 2);
  assert.deepEqual(JSON.parse(uj.stdout), { success: false, code: 'USAGE_ERROR', error: 'client.py call: give a module and a function name' });

  const gone = path.join(base, 'no-daemon.sock');
  const n = await py(['ping'], { CLAUDE_DAEMON_SOCKET: gone });
  assert.equal(n.code, 3);
  assert.match(n.stderr, /no claude-daemon is running on .*no-daemon\.sock.*claude-daemon start/);
  const nj = await py(['--socket', gone, 'list', '--json']);
  assert.equal(nj.code, 3);
  assert.deepEqual((JSON.parse(nj.stdout) as { code: string }).code, 'NO_DAEMON');
  assert.doesNotMatch(n.stderr + nj.stderr, /Traceback/);
});

test('global options before or after the verb; --json prints the exact result; --help lists the verbs', async () => {
  for (const args of [['--socket', d.socket, '--json', 'ping'], ['ping', '--json', '--socket', d.socket], ['--json', 'ping', `--socket=${d.socket}`]]) {
    const r = await py(args, { CLAUDE_DAEMON_SOCKET: path.join(base, 'wrong.sock') });
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout.split('\n').length, 2, 'one line');
    const v = JSON.parse(r.stdout) as { pong: boolean; pid: number; socket: string };
    assert.deepEqual([v.pong, v.pid, v.socket], [true, d.proc.pid, d.socket]);
  }
  const h = await py(['--help']);
  assert.equal(h.code, 0);
  for (const v of ['ping', 'load', 'call', 'spawn', 'claude', 'list', 'info', 'logs', 'kill', 'wait', 'rm', 'result', 'modules', 'unload', 'shutdown', 'request']) {
    assert.match(h.stdout, new RegExp(`^ {2}${v} +\\S`, 'm'), `--help lists ${v}`);
  }
  assert.match(h.stdout, /exit codes: 0 ok, 1 .*2 usage.*3 no daemon/);
  const sh = await py(['spawn', '--help']);
  assert.equal(sh.code, 0);
  assert.match(sh.stdout, /^usage: client\.py spawn /);
});

test('process verbs: spawn (-- optional), wait mirrors the exit code (124 on timeout), logs, info, kill --signal 9/TERM, rm, list --status', async () => {
  const s = await py(['spawn', '--id', 'py-seven', 'sh', '-c', 'echo out-line; echo err-line >&2; exit 7']);
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stdout, /^py-seven running \(pid \d+\): sh -c 'echo out-line; echo err-line >&2; exit 7'\n$/);
  const w = await py(['wait', 'py-seven']);
  assert.deepEqual([w.code, w.stdout], [7, 'py-seven exited 7\n']);
  assert.equal((await py(['logs', 'py-seven'])).stdout, 'out-line\n');
  assert.equal((await py(['logs', 'py-seven', '--stderr'])).stdout, 'err-line\n');
  const info = await py(['info', 'py-seven']);
  assert.match(info.stdout, /^id: +py-seven\nstatus: +exited 7\n/);
  assert.match(info.stdout, /^output: +9 bytes stdout, 9 bytes stderr$/m);

  await py(['spawn', '--id', 'py-lines', '--', 'sh', '-c', 'printf "a\\nb\\nc\\n"']);
  assert.equal((await py(['wait', 'py-lines', '--timeout', '30'])).code, 0);
  assert.equal((await py(['logs', 'py-lines', '--tail', '2'])).stdout, 'b\nc\n');

  const f = await py(['spawn', '--id', 'py-follow', 'sh', '-c', 'echo first; sleep 0.6; echo second']);
  assert.equal(f.code, 0, f.stderr);
  assert.deepEqual(await py(['logs', 'py-follow', '--follow']).then((r) => [r.code, r.stdout]), [0, 'first\nsecond\n']);
  assert.equal((await py(['rm', 'py-follow'])).code, 0);

  const sl = await py(['spawn', '--id', 'py-sleep', '--env', 'X=1', 'sleep', '30']);
  assert.equal(sl.code, 0, sl.stderr);
  const t = await py(['wait', 'py-sleep', '--timeout', '0.3']);
  assert.deepEqual([t.code, t.stdout], [124, 'py-sleep still running (timed out)\n']);
  const k = await py(['kill', 'py-sleep', '--signal', '9']);
  assert.deepEqual([k.code, k.stdout], [0, 'py-sleep killed SIGKILL\n']);
  assert.equal((await py(['wait', 'py-sleep'])).code, 137);
  await py(['spawn', '--id', 'py-term', 'sleep', '30']);
  assert.equal((await py(['kill', 'py-term', '--signal', 'TERM'])).stdout, 'py-term killed SIGTERM\n');
  assert.equal((await py(['wait', 'py-term', '--json'])).code, 143);

  const ex = JSON.parse((await py(['list', '--status', 'exited', '--json'])).stdout) as { processes: ProcessRecord[] };
  assert.deepEqual(ex.processes.map((p) => p.process_id).filter((id) => id.startsWith('py-')).sort(), ['py-lines', 'py-seven']);
  const table = (await py(['list'])).stdout;
  assert.match(table, /^py-seven +exited 7 +\d+ +\S+ +sh -c /m);
  assert.match(table, /^\(2 exited, 2 killed\)$/m);
  const req = await py(['request', 'list_processes', '{"status": "killed"}']);
  assert.deepEqual((JSON.parse(req.stdout) as { processes: ProcessRecord[] }).processes.map((p) => p.process_id).filter((id) => id.startsWith('py-')).sort(), ['py-sleep', 'py-term']);
  for (const id of ['py-seven', 'py-lines', 'py-sleep', 'py-term']) assert.equal((await py(['rm', id])).stdout, `removed ${id}\n`);
  assert.equal((await py(['list'])).stdout, 'no processes\n');
});

test('kill ID ID... and kill_processes(ids): several at once (kill_process with process_ids)', async () => {
  for (const id of ['py-k1', 'py-k2', 'py-k3', 'py-k4']) assert.equal((await py(['spawn', '--id', id, 'sleep', '30'])).code, 0);
  const k = await py(['kill', 'py-k2', 'py-k1']);
  assert.deepEqual([k.code, k.stdout], [0, 'py-k2 killed SIGTERM\npy-k1 killed SIGTERM\n']);
  const lib = await pyLib<string[]>('import client\nprint(json.dumps([r["process_id"] + " " + r["signal"] for r in client.kill_processes(["py-k4", "py-k3"], signal="SIGKILL")]))');
  assert.deepEqual(lib, ['py-k4 SIGKILL', 'py-k3 SIGKILL']);
  for (const id of ['py-k1', 'py-k2', 'py-k3', 'py-k4']) assert.equal((await py(['rm', id])).code, 0);
});

test('module verbs: call arguments are JSON when they parse, else strings; --kwargs; modules; unload', async () => {
  fs.writeFileSync(path.join(d.modulesDir, 'pyecho.ts'), 'export function echo(...a: unknown[]) { return a; }\n');
  fs.writeFileSync(path.join(d.modulesDir, 'pykw.py'), 'import time\n\ndef greet(name, punct="."):\n    return "Hi " + name + punct\n\ndef slow():\n    time.sleep(30)\n');
  const r = await py(['call', 'pyecho', 'echo', '42', '{"a": 1}', 'Claude', 'true', '-5', '--', '--not-an-option']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '[42,{"a":1},"Claude",true,-5,"--not-an-option"]\n');
  assert.equal((await py(['call', 'pykw', 'greet', 'Bo', '--kwargs', '{"punct": "!"}'])).stdout, 'Hi Bo!\n');
  assert.equal((await py(['call', 'pykw', 'greet', 'Bo', '--json'])).stdout, '"Hi Bo."\n');
  const late = await py(['call', 'pykw', 'slow', '--timeout', '0.5']);
  assert.equal(late.code, 124, 'a call past its timeout is a timed-out wait');
  assert.match(late.stderr, /^error \[CALL_TIMEOUT\]/);
  const m = await py(['modules']);
  assert.match(m.stdout, /^MODULE +VERSION +LANGUAGE +CALLS +AGE +FUNCTIONS\n/);
  assert.match(m.stdout, /^pykw +v\d+ +python +\d+ +\S+ +greet, slow$/m);
  assert.match((await py(['unload', 'pyecho'])).stdout, /^unloaded pyecho \(was v\d+\)\n$/);
  const missing = await py(['call', 'nomod', 'f']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^error \[MODULE_NOT_FOUND\]/);
});

test('claude verbs: claude --wait prints the result or why it failed; result --timeout exits 124', async () => {
  const [ok, fail, slow, stdin] = await Promise.all([
    py(['claude', 'hello from python', '--wait', '--model', 'claude-py-wait']),
    py(['claude', 'MOCK_500 please fail', '--wait']),
    py(['claude', 'MOCK_SLOW:20000 slow one', '--id', 'py-slow', '--', '--bare']),
    py(['spawn', '--id', 'py-stdin', '--stdin', 'prompt from stdin', 'claude', '-p']),
  ]);
  assert.equal(stdin.code, 0, stdin.stderr);
  assert.equal((await c.claudeResult({ process_id: 'py-stdin', wait: true, timeout_s: 60 })).result, 'MOCK REPLY: prompt from stdin');
  assert.deepEqual([ok.code, ok.stdout], [0, 'MOCK REPLY: hello from python\n'], ok.stderr);
  assert.equal(fail.code, 1);
  assert.match(fail.stderr, /claude-[0-9a-f]{8} failed: .*500/);
  assert.deepEqual([slow.code, slow.stdout], [0, 'py-slow\n'], slow.stderr);
  assert.ok((await c.processInfo('py-slow')).cmd.includes('--bare'));
  const t = await py(['result', 'py-slow', '--timeout', '0.5']);
  assert.equal(t.code, 124, t.stderr);
  assert.match(t.stderr, /py-slow is still running/);
  assert.equal((await py(['kill', 'py-slow'])).code, 0);
  const after = await py(['result', 'py-slow', '--json']);
  assert.equal(after.code, 1);
  assert.equal((JSON.parse(after.stdout) as { process_id: string; is_error: boolean }).is_error, true);
  const notClaude = await py(['result', 'nope']);
  assert.equal(notClaude.code, 1);
  for (const p of (await c.listProcesses()).processes) await c.removeProcess(p.process_id);
});

test('client.py copied alone next to a script works there, as a CLI and as a library', async () => {
  const dir = fs.mkdtempSync(path.join(base, 'alone-'));
  fs.copyFileSync(CLIENT, path.join(dir, 'client.py'));
  fs.writeFileSync(path.join(dir, 'script.py'), 'import json\nfrom client import call_function, list_processes\nprint(json.dumps([call_function("example", "hello", ["Py"]), list_processes()["totals"]["running"]]))\n');
  const env = { CLAUDE_DAEMON_SOCKET: d.socket, PYTHONPATH: undefined };
  const opts = { cwd: dir, env };
  const k = await run('python3', ['-E', '-s', 'client.py', 'call', 'example', 'hello', 'Claude'], opts);
  assert.deepEqual([k.code, k.stdout], [0, 'Hello, Claude!\n'], k.stderr);
  const l = await run('python3', ['-E', '-s', 'client.py', 'list'], opts);
  assert.equal(l.code, 0, l.stderr);
  const s = await run('python3', ['-E', '-s', 'script.py'], opts);
  assert.deepEqual([s.code, s.stdout], [0, '["Hello, Py!", 0]\n'], s.stderr);
});

test('claude_params_from_argv reads a command line as claude does', async () => {
  const cases: Array<[string[], unknown]> = [
    [['claude', '-p', 'analyze'], { prompt: 'analyze' }],
    [['-p', 'analyze'], { prompt: 'analyze' }],
    [['claude', 'just a prompt'], { prompt: 'just a prompt' }],
    [['claude', '-cp', '--output-format=json', '--verbose', 'go on'], { prompt: 'go on', extra_args: ['-c'] }],
    [['claude', '-p', '--allowedTools', 'Bash', 'Read', '--model', 'm', '--', '-starts with a dash'], { prompt: '-starts with a dash', allowed_tools: ['Bash', 'Read'], model: 'm' }],
    [['claude', '-p', 'middle', '--resume', 'abc', '--fork-session', '--max-turns', 'x'], { prompt: 'middle', resume: 'abc', extra_args: ['--fork-session', '--max-turns', 'x'] }],
    [['claude', '-r', '--bare', '-p', 'q', '--max-budget-usd', '0.5'], { prompt: 'q', extra_args: ['-r', '--bare', '--max-budget-usd', '0.5'] }],
    [['/opt/x/claude', '-p', 'q', '--session-id=1b4e28ba-2fa1-11d2-883f-0016d3cca427'], { prompt: 'q', env: { CLAUDE_BIN: '/opt/x/claude' }, session_id: '1b4e28ba-2fa1-11d2-883f-0016d3cca427' }],
    [['claude', '-p', 'one', 'two'], 'ValueError'],
    [['claude', '-p', '--model', 'm'], 'ValueError'],
  ];
  const got = await pyLib<unknown[]>(`
from client import claude_params_from_argv
out = []
for argv in json.loads(${JSON.stringify(JSON.stringify(cases.map(([a]) => a)))}):
    try:
        out.append(claude_params_from_argv(argv))
    except ValueError:
        out.append('ValueError')
print(json.dumps(out))
`);
  cases.forEach(([argv, want], i) => assert.deepEqual(got[i], want, argv.join(' ')));
});

test('shutdown stops the daemon; wait on a process killed while queued exits 143 (a daemon of its own)', async () => {
  const own = await startTestDaemon({ dir: path.join(base, 'own'), args: ['--max-running', '1'] });
  try {
    const opt = { env: { CLAUDE_DAEMON_SOCKET: own.socket } };
    assert.equal((await run('python3', [CLIENT, 'spawn', '--id', 'first', 'sleep', '30'], opt)).code, 0);
    assert.match((await run('python3', [CLIENT, 'spawn', '--id', 'second', 'sleep', '30'], opt)).stdout, /^second queued: sleep 30\n$/);
    assert.equal((await run('python3', [CLIENT, 'kill', 'second'], opt)).stdout, 'second killed\n');
    const w = await run('python3', [CLIENT, 'wait', 'second'], opt);
    assert.deepEqual([w.code, w.stdout], [143, 'second killed before it started (it never ran)\n']);
    const r = await run('python3', [CLIENT, 'shutdown', '--kill-processes', '--json', '--socket', own.socket]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { shutting_down: true, kill_processes: true });
    await new Promise<void>((resolve) => (own.proc.exitCode !== null ? resolve() : own.proc.once('exit', () => resolve())));
    assert.equal((await run('python3', [CLIENT, '--socket', own.socket, 'ping'])).code, 3);
  } finally {
    await own.stop();
  }
});
