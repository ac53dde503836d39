/**
 * `call` as a shell user meets it: `--kwargs` binds to a TypeScript function's named parameters as
 * Python binds keyword arguments (the shipped example with the form the CLI's messages suggest), a
 * call that times out says how to give it more time, and a call served by the previous version
 * because the newest save failed to load warns on stderr.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { DaemonClient } from '../../src/index.js';
import { ROOT, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';
import { daemonError, writeAtomic, writeInPlace } from './util.js';

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

test('the example module takes its argument positionally or by name with --kwargs', async () => {
  assert.equal((await d.cli(['call', 'example', 'hello', 'Claude'])).stdout, 'Hello, Claude!\n');
  const named = await d.cli(['call', 'example', 'hello', '--kwargs', '{"name": "x"}']);
  assert.equal(named.stderr, '');
  assert.equal(named.stdout, 'Hello, x!\n');
  assert.equal(named.code, 0);
  assert.equal((await d.cli(['call', 'example', 'hello'])).stdout, 'Hello, world!\n');

  const typo = await d.cli(['call', 'example', 'hello', '--kwargs', '{"nam": "x"}']);
  assert.equal(typo.code, 1);
  assert.match(typo.stderr, /FUNCTION_ERROR.*hello\(\) got an unexpected keyword argument 'nam' \(its parameters: name\)/);
  const twice = await d.cli(['call', 'example', 'hello', 'Claude', '--kwargs', '{"name": "x"}']);
  assert.equal(twice.code, 1);
  assert.match(twice.stderr, /hello\(\) got multiple values for argument 'name'/);
  const help = await d.cli(['call', '--help']);
  assert.match(help.stdout, /--kwargs JSON\s+arguments by parameter name/);
  assert.match(help.stdout, /claude-daemon call example hello --kwargs '\{"name": "Claude"\}'/);
});

test('kwargs bind to TypeScript parameters by name; leftovers go to a destructured or rest last parameter', async () => {
  writeInPlace(
    d.modulesDir,
    'kw.ts',
    [
      'export function plain(a: number, b = 2, c = 3) { return [a, b, c]; }',
      'export function opts(files: string[], { model, effort }: { model?: string; effort?: string } = {}) { return { files, model, effort }; }',
      'export function rest(first: string, ...more: unknown[]) { return [first, ...more]; }',
      'export const arrow = async (x: number, y = 10) => x * y;',
      '',
    ].join('\n'),
  );
  assert.deepEqual(await c.callFunction('kw', 'plain', [1], { kwargs: { c: 30 } }), [1, 2, 30]);
  assert.deepEqual(await c.callFunction('kw', 'plain', [], { kwargs: { b: 20, a: 10 } }), [10, 20, 3]);
  assert.deepEqual(await c.callFunction('kw', 'opts', [['a.ts']], { kwargs: { model: 'opus' } }), { files: ['a.ts'], model: 'opus' });
  assert.deepEqual(await c.callFunction('kw', 'opts', [], { kwargs: { files: ['b.ts'], effort: 'high' } }), { files: ['b.ts'], effort: 'high' });
  assert.deepEqual(await c.callFunction('kw', 'rest', ['x', 1], { kwargs: { k: 'v' } }), ['x', 1, { k: 'v' }]);
  assert.equal(await c.callFunction('kw', 'arrow', [], { kwargs: { x: 2, y: 3 } }), 6);
  const unknown = await daemonError(c.callFunction('kw', 'plain', [1], { kwargs: { d: 4 } }));
  assert.equal(unknown.code, 'FUNCTION_ERROR');
  assert.match(unknown.message, /plain\(\) got an unexpected keyword argument 'd' \(its parameters: a, b, c\)/);
  const both = await daemonError(c.callFunction('kw', 'plain', [1], { kwargs: { a: 1 } }));
  assert.match(both.message, /plain\(\) got multiple values for argument 'a'/);
});

test('a call that times out exits 124 and says how to give it more time', async () => {
  writeInPlace(d.modulesDir, 'slowpoke.ts', 'export async function nap(ms: number) { await new Promise((r) => setTimeout(r, ms)); return ms; }\n');
  const r = await d.cli(['call', 'slowpoke', 'nap', '5000', '--timeout', '0.5']);
  assert.equal(r.code, 124, r.stderr);
  assert.match(r.stderr, /^error \[CALL_TIMEOUT\]: slowpoke\.nap did not finish within 0\.5 s/);
  assert.match(r.stderr, /give it more time with --timeout S/);
  assert.doesNotMatch(r.stderr, /timeout_s/);
  const wire = await daemonError(c.callFunction('slowpoke', 'nap', [5000], { timeoutS: 0.5 }));
  assert.equal(wire.code, 'CALL_TIMEOUT');
  assert.match(wire.message, /give it more time with timeout_s/);
  assert.equal((await d.cli(['call', 'slowpoke', 'nap', '10', '--timeout', '5'])).stdout, '10\n');
});

test('a call served by the previous version because the newest save failed warns on stderr, one line', async () => {
  writeInPlace(d.modulesDir, 'fallback.ts', 'export function answer() { return 42; }\n');
  assert.equal((await d.cli(['call', 'fallback', 'answer'])).stdout, '42\n');
  const quiet = await d.cli(['call', 'fallback', 'answer']);
  assert.equal(quiet.stderr, '', 'no warning while the newest save is the serving one');
  writeAtomic(d.modulesDir, 'fallback.ts', 'export function answer() { return 43 +; }\n');
  await waitFor(async () => ((await c.listModules()).modules.find((m) => m.module === 'fallback')?.last_error ?? '') !== '', { what: 'the broken save to be rejected' });
  const r = await d.cli(['call', 'fallback', 'answer']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '42\n');
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^warning: fallback v1 served this call; the newest save failed to load: .*fallback\.ts:1:\d+/);
  const j = await d.cli(['call', 'fallback', 'answer', '--json']);
  assert.equal(j.stdout, '42\n');
  assert.match(j.stderr, /^warning: /);
  writeAtomic(d.modulesDir, 'fallback.ts', 'export function answer() { return 44; }\n');
  await waitFor(async () => (await d.cli(['call', 'fallback', 'answer'])).stdout === '44\n', { what: 'the fixed save to serve' });
  assert.equal((await d.cli(['call', 'fallback', 'answer'])).stderr, '');
});
