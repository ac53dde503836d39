import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { DaemonClient } from '../../src/index.js';
import { ROOT, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';
import { daemonError, writeAtomic, writeInPlace } from './util.js';

let d: TestDaemon;
let c: DaemonClient;
const fakeClaudeDir = path.join(ROOT, 'test', 'fixtures', 'fake-claude');
before(async () => {
  // A small memory cap keeps the out-of-memory test quick.
  // `claude` on the daemon's PATH is the fake stand-in, so a module's spawn_claude_process(['claude', ...]) really runs.
  d = await startTestDaemon({ args: ['--module-memory-mb', '96'], env: { PATH: `${fakeClaudeDir}:${process.env['PATH'] ?? ''}` } });
  c = await d.client();
});
after(async () => {
  await d.stop();
});

function python(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('python3', args, { env: { ...process.env, ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test("the original design's Python example works as written", async () => {
  writeInPlace(d.modulesDir, 'my_module.py', 'def process_data(input_data):\n    return {"processed": input_data.upper()}\n');
  assert.deepEqual(await c.callFunction('my_module', 'process_data', ['hello']), { processed: 'HELLO' });
  const info = await c.loadModule('my_module');
  assert.equal(info.language, 'python');
  assert.deepEqual(info.functions, [{ name: 'process_data', params: ['input_data'] }]);
});

test('Python: kwargs, defaults, async functions, private names hidden, imported functions not listed', async () => {
  writeInPlace(
    d.modulesDir,
    'pyk.py',
    'import asyncio\nfrom os.path import join\n\ndef combine(a, b=2, *rest, c=3, **more):\n    return [a, b, list(rest), c, more]\n\nasync def later(x):\n    await asyncio.sleep(0.01)\n    return x * 2\n\ndef _private():\n    return 1\n',
  );
  const info = await c.loadModule('pyk');
  assert.deepEqual(info.functions, [
    { name: 'combine', params: ['a', 'b', '*rest', 'c', '**more'] },
    { name: 'later', params: ['x'] },
  ]);
  assert.deepEqual(await c.callFunction('pyk', 'combine', [1], { kwargs: { c: 9, extra: true } }), [1, 2, [], 9, { extra: true }]);
  assert.deepEqual(await c.callFunction('pyk', 'combine', [1, 5, 6, 7]), [1, 5, [6, 7], 3, {}]);
  assert.equal(await c.callFunction('pyk', 'later', [21]), 42);
  assert.equal((await daemonError(c.callFunction('pyk', '_private'))).code, 'FUNCTION_NOT_FOUND');
  assert.equal((await daemonError(c.callFunction('pyk', 'join'))).code, 'FUNCTION_NOT_FOUND');
});

test('Python: a function error carries the traceback at the module lines; a non-JSON result is refused', async () => {
  const file = writeInPlace(d.modulesDir, 'pyerr.py', 'def fail(x):\n    helper = {"a": 1}\n    return helper[x]\n\ndef aset():\n    return {1, 2}\n');
  const e = await daemonError(c.callFunction('pyerr', 'fail', ['zz']));
  assert.equal(e.code, 'FUNCTION_ERROR');
  assert.match(e.message, /Traceback/);
  assert.match(e.message, /KeyError: 'zz'/);
  assert.ok(e.message.includes(`File "${file}", line 3, in fail`), e.message);
  assert.equal((await daemonError(c.callFunction('pyerr', 'aset'))).code, 'RESULT_NOT_SERIALIZABLE');
});

test('Python: reload on save and on load_module; a broken version (syntax, import-time raise) is rejected with its location', async () => {
  const file = writeInPlace(d.modulesDir, 'pyrel.py', 'def version():\n    return 1\n');
  const v1 = (await c.loadModule('pyrel')).version;
  writeAtomic(d.modulesDir, 'pyrel.py', 'def version():\n    return 2\n');
  await waitFor(async () => (await c.callFunction('pyrel', 'version')) === 2, { what: 'python reload on save' });
  assert.equal((await c.loadModule('pyrel')).version, v1 + 2);

  writeInPlace(d.modulesDir, 'pyrel.py', 'def version(:\n    return 3\n');
  const syn = await daemonError(c.loadModule('pyrel'));
  assert.equal(syn.code, 'MODULE_LOAD_FAILED');
  assert.ok(syn.message.includes(`${file}:1:`), syn.message);
  assert.match(syn.message, /SyntaxError/);
  assert.equal(await c.callFunction('pyrel', 'version'), 2);

  writeInPlace(d.modulesDir, 'pyrel.py', 'import os\n\nraise RuntimeError("no config")\n\ndef version():\n    return 4\n');
  const imp = await daemonError(c.loadModule('pyrel'));
  assert.equal(imp.code, 'MODULE_LOAD_FAILED');
  assert.ok(imp.message.includes(`${file}:3:`), imp.message);
  assert.match(imp.message, /RuntimeError: no config/);
  assert.equal(await c.callFunction('pyrel', 'version'), 2);
  assert.match((await c.listModules()).modules.find((m) => m.module === 'pyrel')?.last_error ?? '', /no config/);
});

test('Python: a runaway call times out and the module is back; sys.exit and os._exit are contained', async () => {
  writeInPlace(d.modulesDir, 'pywild.py', 'import os, sys\nn = 0\ndef count():\n    global n\n    n += 1\n    return n\ndef spin():\n    while True:\n        pass\ndef leave():\n    sys.exit(4)\ndef die():\n    os._exit(9)\n');
  assert.equal(await c.callFunction('pywild', 'count'), 1);
  assert.equal((await daemonError(c.callFunction('pywild', 'spin', [], { timeoutS: 1 }))).code, 'CALL_TIMEOUT');
  assert.equal(await c.callFunction('pywild', 'count'), 1);
  const exit = await daemonError(c.callFunction('pywild', 'leave'));
  assert.equal(exit.code, 'MODULE_CRASHED');
  assert.match(exit.message, /sys\.exit\(4\)/);
  assert.equal((await daemonError(c.callFunction('pywild', 'die'))).code, 'MODULE_CRASHED');
  assert.equal(await c.callFunction('pywild', 'count'), 1);
});

test('Python: dispose() runs on the old version when it is replaced', async () => {
  const marker = path.join(d.dir, 'py-disposed.txt');
  const src = (v: number): string => `def version():\n    return ${v}\n\ndef dispose():\n    with open(${JSON.stringify(marker)}, "a") as f:\n        f.write("v${v}\\n")\n`;
  writeInPlace(d.modulesDir, 'pydisp.py', src(1));
  await c.loadModule('pydisp');
  writeInPlace(d.modulesDir, 'pydisp.py', src(2));
  await c.loadModule('pydisp');
  await waitFor(() => fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === 'v1\n', { what: 'python dispose of v1' });
});

test('Python: exhausting memory is contained by the cap (MODULE_CRASHED) and the module is restarted', async () => {
  writeInPlace(d.modulesDir, 'pyhog.py', 'def ok():\n    return "ok"\n\ndef hog():\n    keep = []\n    while True:\n        keep.append(bytearray(1 << 20))\n');
  assert.equal(await c.callFunction('pyhog', 'ok'), 'ok');
  const e = await daemonError(c.callFunction('pyhog', 'hog', [], { timeoutS: 60 }));
  assert.equal(e.code, 'MODULE_CRASHED');
  assert.match(e.message, /out of memory \(cap 96 MB\)/);
  assert.equal(await c.callFunction('pyhog', 'ok'), 'ok');
});

test('Python: print() and subprocess output go to the daemon log tagged with the module name; a subprocess cannot read the requests', async () => {
  writeInPlace(
    d.modulesDir,
    'pyprint.py',
    'import subprocess\n\ndef talk():\n    print("py-said-hello")\n    subprocess.run(["echo", "sub-echo-line"], check=True)\n    return "quiet"\n\ndef reads_stdin():\n    return subprocess.run(["cat"], capture_output=True, timeout=5).stdout.decode()\n',
  );
  assert.equal(await c.callFunction('pyprint', 'talk'), 'quiet');
  await waitFor(() => /\[modules:pyprint\] py-said-hello/.test(d.log()) && /\[modules:pyprint\] sub-echo-line/.test(d.log()), { what: 'tagged output in the log' });
  assert.equal(await c.callFunction('pyprint', 'reads_stdin'), '');
  assert.equal(await c.callFunction('pyprint', 'talk'), 'quiet');
});

test('Python: a module talks back through the shipped client (ping, call_function of another module)', async () => {
  writeInPlace(d.modulesDir, 'greeter.ts', 'export function hello(name: string) { return `Hello, ${name}!`; }\n');
  writeInPlace(
    d.modulesDir,
    'pyback.py',
    'from client import call_function, ping, spawn_claude_process, DaemonError\n\ndef relay(name):\n    return {"pid": ping()["pid"], "greeting": call_function("greeter", "hello", [name])}\n\ndef spawn():\n    try:\n        return {"record": spawn_claude_process(["claude", "-p", "analyze"])}\n    except DaemonError as e:\n        return {"code": e.code}\n',
  );
  assert.deepEqual(await c.callFunction('pyback', 'relay', ['Bea']), { pid: d.proc.pid, greeting: 'Hello, Bea!' });
  // The original design's call, as written: a tracked claude run (spawn_claude, `claude` found on
  // the daemon's PATH), and the module gets the record back.
  const r = await c.callFunction<{ code?: string; record?: { cmd: string[]; process_id: string; claude?: object } }>('pyback', 'spawn');
  assert.equal(r.code, undefined, `spawn_claude_process failed: ${r.code ?? ''}`);
  assert.deepEqual(r.record?.cmd, [path.join(fakeClaudeDir, 'claude'), '-p', '--output-format', 'stream-json', '--verbose', '--', 'analyze']);
  assert.ok(r.record.claude, 'the record carries the claude object');
  const res = await c.claudeResult({ process_id: r.record.process_id, wait: true, timeout_s: 30 });
  assert.deepEqual([res.result, res.is_error], ['FAKE REPLY: analyze', false]);
});

test('the Python client works on its own and sends the original design\'s requests', async () => {
  const alone = await python([path.join(ROOT, 'python', 'client.py'), 'ping', '--json'], { CLAUDE_DAEMON_SOCKET: d.socket });
  assert.equal(alone.code, 0, alone.stderr);
  assert.equal((JSON.parse(alone.stdout) as { pid: number }).pid, d.proc.pid);

  // A fake daemon records exactly what each helper sends.
  const sock = path.join(d.dir, 'fake.sock');
  const seen: unknown[] = [];
  const server = net.createServer((s) => {
    s.setEncoding('utf8');
    let buf = '';
    s.on('data', (chunk: string) => {
      buf += chunk;
      if (!buf.includes('\n')) return;
      seen.push(JSON.parse(buf.slice(0, buf.indexOf('\n'))));
      s.end('{"success": true, "result": {"ok": 1}}\n');
    });
  });
  await new Promise<void>((r) => server.listen(sock, r));
  try {
    const script = [
      'import sys',
      `sys.path.insert(0, ${JSON.stringify(path.join(ROOT, 'python'))})`,
      'from client import spawn_claude_process, spawn_process, call_function, load_module, list_modules, list_processes, process_info',
      "spawn_claude_process(['claude', '-p', 'analyze'])",
      "spawn_process(['echo', 'hi'], process_id='p1')",
      "call_function('m', 'f', ['a'], kwargs={'k': 1})",
      "load_module('m')",
      'list_modules()',
      'list_processes()',
      "print(process_info('p1'))",
    ].join('\n');
    const r = await python(['-c', script], { CLAUDE_DAEMON_SOCKET: sock });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "{'ok': 1}");
    assert.deepEqual(seen, [
      { prompt: 'analyze', command: 'spawn_claude' },
      { cmd: ['echo', 'hi'], process_id: 'p1', command: 'spawn_process' },
      { module_name: 'm', function_name: 'f', args: ['a'], kwargs: { k: 1 }, command: 'call_function' },
      { module_name: 'm', command: 'load_module' },
      { command: 'list_modules' },
      { command: 'list_processes' },
      { process_id: 'p1', command: 'process_info' },
    ]);
  } finally {
    server.close();
    fs.rmSync(sock, { force: true });
  }
});
