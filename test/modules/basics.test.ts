import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { DaemonClient } from '../../src/index.js';
import { ROOT, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { RawConn } from '../helpers/raw.js';
import { waitFor } from '../helpers/wait.js';
import { daemonError, writeInPlace } from './util.js';

let d: TestDaemon;
let c: DaemonClient;
before(async () => {
  d = await startTestDaemon();
  c = await d.client();
  fs.copyFileSync(path.join(ROOT, 'claude_modules', 'example.ts'), path.join(d.modulesDir, 'example.ts'));
});
after(async () => {
  await d.stop();
});

test('the shipped example works from the CLI exactly as the README says', async () => {
  const r = await d.cli(['call', 'example', 'hello', 'Claude']);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, 'Hello, Claude!\n');
  assert.equal(r.code, 0);
});

test('load_module replies with version, language, functions, path and loaded_at; an explicit load always makes a new version', async () => {
  writeInPlace(d.modulesDir, 'shapes.ts', 'export function area(w: number, h: number = 1): number { return w * h; }\nexport const half = (x: number) => x / 2;\n');
  const a = await c.loadModule('shapes');
  assert.equal(a.module, 'shapes');
  assert.equal(a.language, 'typescript');
  assert.equal(a.path, path.join(d.modulesDir, 'shapes.ts'));
  assert.deepEqual(a.functions, [
    { name: 'area', params: ['w', 'h'] },
    { name: 'half', params: ['x'] },
  ]);
  assert.ok(!Number.isNaN(Date.parse(a.loaded_at)));
  const b = await c.loadModule('shapes');
  assert.equal(b.version, a.version + 1);
  assert.equal(await c.callFunction('shapes', 'area', [3, 4]), 12);
});

test('call_function: args positionally, kwargs by name or into a destructured last parameter, async awaited, undefined becomes null', async () => {
  writeInPlace(
    d.modulesDir,
    'calls.mjs',
    'export function both(a, { ...opts } = {}) { return { a, opts }; }\nexport async function later(x) { await new Promise((r) => setTimeout(r, 5)); return x * 2; }\nexport function nothing() {}\n',
  );
  assert.deepEqual(await c.callFunction('calls', 'both', [1], { kwargs: { b: 2 } }), { a: 1, opts: { b: 2 } });
  assert.deepEqual(await c.callFunction('calls', 'both', [1], { kwargs: {} }), { a: 1, opts: {} });
  assert.equal(await c.callFunction('calls', 'later', [21]), 42);
  assert.equal(await c.callFunction('calls', 'nothing'), null);
  const raw = await RawConn.open(d.socket);
  const reply = await raw.request({ command: 'call_function', module_name: 'calls', function_name: 'later', args: [2] });
  assert.equal(reply.success, true);
  assert.equal(reply.result, 4);
  raw.close();
});

test('list_modules shows versions, functions, calls served and loaded_at; unload_module removes a module', async () => {
  writeInPlace(d.modulesDir, 'listed.js', 'export function f() { return 1; }\n');
  await c.callFunction('listed', 'f');
  await c.callFunction('listed', 'f');
  const entry = (await c.listModules()).modules.find((m) => m.module === 'listed');
  assert.ok(entry);
  assert.equal(entry.version, 1);
  assert.equal(entry.language, 'javascript');
  assert.equal(entry.calls_served, 2);
  assert.deepEqual(entry.functions, [{ name: 'f', params: [] }]);
  assert.equal(entry.last_error, undefined);
  const u = await c.unloadModule('listed');
  assert.deepEqual(u, { module: 'listed', unloaded: true, version: 1 });
  assert.equal((await c.listModules()).modules.find((m) => m.module === 'listed'), undefined);
  assert.equal((await daemonError(c.unloadModule('listed'))).code, 'MODULE_NOT_LOADED');
  // Calling an unloaded module loads it again.
  assert.equal(await c.callFunction('listed', 'f'), 1);
});

test('dispose() runs on the old version when it is replaced and when it is unloaded', async () => {
  const marker = path.join(d.dir, 'disposed.txt');
  const src = (v: number): string => `import fs from 'node:fs';\nexport function v() { return ${v}; }\nexport function dispose() { fs.appendFileSync(${JSON.stringify(marker)}, 'v${v}\\n'); }\n`;
  writeInPlace(d.modulesDir, 'disp.ts', src(1));
  await c.loadModule('disp');
  writeInPlace(d.modulesDir, 'disp.ts', src(2));
  // The watcher may see the save and make a version from it before this explicit load, which then
  // makes one more (an explicit load always does): one save can mean two versions. So the test
  // counts versions instead of assuming one, and every one of them must be disposed exactly once.
  const loaded = await c.loadModule('disp');
  const lines = (): string[] => (fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8').split('\n').filter((l) => l !== '') : []);
  await waitFor(() => lines().length === loaded.version - 1, { what: `dispose of the ${loaded.version - 1} replaced versions (have ${lines().join(',')})` });
  assert.equal(lines()[0], 'v1', 'the first version is disposed when it is replaced');
  const u = await c.unloadModule('disp');
  await waitFor(() => lines().length === u.version, { what: `dispose of all ${u.version} versions (have ${lines().join(',')})` });
  assert.deepEqual(lines().slice(1), Array.from({ length: u.version - 1 }, () => 'v2'), 'every later version (all from the second save) is disposed, the serving one at unload');
});

test('a module imports its own helper files and npm packages installed next to it', async () => {
  fs.mkdirSync(path.join(d.modulesDir, 'lib'), { recursive: true });
  writeInPlace(d.modulesDir, 'lib/words.ts', 'export const shout = (s: string): string => s.toUpperCase() + "!";\n');
  const pkg = path.join(d.modulesDir, 'node_modules', 'tiny-pad');
  fs.mkdirSync(pkg, { recursive: true });
  fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'tiny-pad', version: '1.0.0', type: 'module', exports: './index.js' }));
  fs.writeFileSync(path.join(pkg, 'index.js'), 'export function pad(s, n) { return s.padStart(n, "*"); }\n');
  writeInPlace(d.modulesDir, 'usesdeps.ts', "import { shout } from './lib/words';\nimport { pad } from 'tiny-pad';\nexport function go(s: string) { return pad(shout(s), 8); }\n");
  assert.equal(await c.callFunction('usesdeps', 'go', ['hey']), '****HEY!');
});

test('a TypeScript module talks back to the daemon through `import { connect } from "claude-daemon"`', async () => {
  writeInPlace(
    d.modulesDir,
    'talker.ts',
    "import { connect } from 'claude-daemon';\nexport async function viaDaemon(name: string) {\n  const c = await connect();\n  try {\n    return { pid: (await c.ping()).pid, greeting: await c.callFunction('example', 'hello', [name]) };\n  } finally {\n    c.close();\n  }\n}\n",
  );
  assert.deepEqual(await c.callFunction('talker', 'viaDaemon', ['Ada']), { pid: d.proc.pid, greeting: 'Hello, Ada!' });
});

test('module output goes to the daemon log tagged with the module name, never into replies', async () => {
  writeInPlace(d.modulesDir, 'noisy.ts', 'export function speak() { console.log("noisy-stdout-line"); console.error("noisy-stderr-line"); return "done"; }\n');
  const raw = await RawConn.open(d.socket);
  const r = await raw.request({ command: 'call_function', module_name: 'noisy', function_name: 'speak' });
  assert.equal(r.result, 'done');
  assert.equal(raw.replies.length, 1);
  raw.close();
  await waitFor(() => /\[modules:noisy\] noisy-stdout-line/.test(d.log()) && /\[modules:noisy\] noisy-stderr-line/.test(d.log()), { what: 'tagged module output in the log' });
});

test('INVALID_MODULE_NAME for names that are not [A-Za-z_][A-Za-z0-9_-]*, on every command', async () => {
  for (const bad of ['../x', '/etc/passwd', '', '9lives', '-x', 'a.b', 'a/b']) {
    assert.equal((await daemonError(c.loadModule(bad))).code, 'INVALID_MODULE_NAME', `load ${JSON.stringify(bad)}`);
    assert.equal((await daemonError(c.callFunction(bad, 'f'))).code, 'INVALID_MODULE_NAME', `call ${JSON.stringify(bad)}`);
    assert.equal((await daemonError(c.unloadModule(bad))).code, 'INVALID_MODULE_NAME', `unload ${JSON.stringify(bad)}`);
  }
});

test('MODULE_NOT_FOUND, MODULE_AMBIGUOUS, FUNCTION_NOT_FOUND, RESULT_NOT_SERIALIZABLE, INVALID_PARAMS', async () => {
  const nf = await daemonError(c.loadModule('nosuch'));
  assert.equal(nf.code, 'MODULE_NOT_FOUND');
  assert.match(nf.message, /nosuch/);
  assert.equal((await daemonError(c.callFunction('nosuch', 'f'))).code, 'MODULE_NOT_FOUND');

  writeInPlace(d.modulesDir, 'twice.ts', 'export const f = () => 1;\n');
  writeInPlace(d.modulesDir, 'twice.py', 'def f():\n    return 1\n');
  const amb = await daemonError(c.loadModule('twice'));
  assert.equal(amb.code, 'MODULE_AMBIGUOUS');
  assert.match(amb.message, /twice\.ts/);
  assert.match(amb.message, /twice\.py/);

  writeInPlace(d.modulesDir, 'ser.ts', 'export const fn = () => () => 1;\nexport const big = () => 10n;\nexport const map = () => new Map();\nexport const ok = () => ({ a: [1, "x", null] });\n');
  const fnf = await daemonError(c.callFunction('ser', 'missing'));
  assert.equal(fnf.code, 'FUNCTION_NOT_FOUND');
  assert.match(fnf.message, /big, fn, map, ok|fn, big, map, ok/);
  for (const f of ['fn', 'big', 'map']) assert.equal((await daemonError(c.callFunction('ser', f))).code, 'RESULT_NOT_SERIALIZABLE', f);
  assert.deepEqual(await c.callFunction('ser', 'ok'), { a: [1, 'x', null] });

  const raw = await RawConn.open(d.socket);
  const bad = await raw.request({ command: 'call_function', module_name: 'ser', function_name: 'ok', args: 'nope' });
  assert.equal(bad.code, 'INVALID_PARAMS');
  raw.close();
});

test('FUNCTION_ERROR carries the message and a stack at the TypeScript source lines', async () => {
  writeInPlace(d.modulesDir, 'thrower.ts', 'interface Shape {\n  w: number;\n}\n\nexport function fail(s: Shape): number {\n  if (s.w > 0) throw new RangeError(`too wide: ${s.w}`);\n  return 0;\n}\n');
  const e = await daemonError(c.callFunction('thrower', 'fail', [{ w: 3 }]));
  assert.equal(e.code, 'FUNCTION_ERROR');
  assert.match(e.message, /RangeError: too wide: 3/);
  assert.ok(e.message.includes(`${path.join(d.modulesDir, 'thrower.ts')}:6:`), e.message);
});

test('MODULE_LOAD_FAILED with file:line:column for a syntax error and for a throw at load time', async () => {
  const file = writeInPlace(d.modulesDir, 'syn.ts', 'export function f() {\n  return 1 +;\n}\n');
  const syn = await daemonError(c.loadModule('syn'));
  assert.equal(syn.code, 'MODULE_LOAD_FAILED');
  assert.ok(syn.message.includes(`${file}:2:`), syn.message);
  const file2 = writeInPlace(d.modulesDir, 'tl.ts', 'const x: number = 1;\n\nthrow new Error("config missing " + x);\nexport const f = () => 1;\n');
  const tl = await daemonError(c.loadModule('tl'));
  assert.equal(tl.code, 'MODULE_LOAD_FAILED');
  assert.ok(tl.message.includes(`${file2}:3:`), tl.message);
  assert.match(tl.message, /config missing 1/);
  writeInPlace(d.modulesDir, 'empty.ts', '// nothing exported yet\n');
  assert.equal((await daemonError(c.loadModule('empty'))).code, 'MODULE_LOAD_FAILED');
  assert.equal((await c.listModules()).modules.find((m) => m.module === 'syn'), undefined, 'a module that never loaded is not listed');
});

test('CLI: load, call with JSON and string args and --kwargs, modules, unload, and exit code 1 with the code', async () => {
  writeInPlace(d.modulesDir, 'cli_mod.ts', 'export function echo(...a: unknown[]) { return a; }\n');
  const l = await d.cli(['load', 'cli_mod']);
  assert.equal(l.code, 0, l.stderr);
  assert.match(l.stdout, /loaded cli_mod v1 \(typescript\)/);
  const r = await d.cli(['call', 'cli_mod', 'echo', '42', 'word', '{"a":1}', '[1,2]', 'true', '--kwargs', '{"k":"v"}']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [42, 'word', { a: 1 }, [1, 2], true, { k: 'v' }]);
  const m = await d.cli(['modules']);
  assert.match(m.stdout, /^MODULE\s+VERSION/);
  assert.match(m.stdout, /cli_mod\s+v1\s+typescript\s+1/);
  const mj = JSON.parse((await d.cli(['modules', '--json'])).stdout) as { modules: Array<{ module: string }> };
  assert.ok(mj.modules.some((x) => x.module === 'cli_mod'));
  const bad = await d.cli(['call', 'cli_mod', 'nope']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /FUNCTION_NOT_FOUND/);
  const u = await d.cli(['unload', 'cli_mod']);
  assert.equal(u.code, 0);
  assert.match(u.stdout, /unloaded cli_mod/);
  assert.equal((await d.cli(['call', 'cli_mod'])).code, 2);
});

test('the modules directory is created at start when missing', async () => {
  const d2 = await startTestDaemon({ args: ['--modules-dir', path.join(d.dir, 'fresh', 'mods')] });
  try {
    assert.ok(fs.statSync(path.join(d.dir, 'fresh', 'mods')).isDirectory());
  } finally {
    await d2.stop();
  }
});
