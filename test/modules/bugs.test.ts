/**
 * Module defects of issue 11, each pinned by a test: restarts from the last good version (Python
 * too), a rejected reload keeps the serving version alive, version numbers never go backwards,
 * calls that cannot be handed over or answered fail alone, a forked child cannot answer, and an
 * exception whose __str__ raises is still a FUNCTION_ERROR.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { DaemonClient } from '../../src/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { RawConn } from '../helpers/raw.js';
import { waitFor } from '../helpers/wait.js';
import { daemonError, writeAtomic, writeInPlace } from './util.js';

let d: TestDaemon;
let c: DaemonClient;
before(async () => {
  d = await startTestDaemon();
  c = await d.client();
});
after(async () => {
  await d.stop();
});

async function lastError(name: string): Promise<string> {
  return (await c.listModules()).modules.find((m) => m.module === name)?.last_error ?? '';
}

async function restartsOf(name: string): Promise<number | undefined> {
  return (await c.listModules()).modules.find((m) => m.module === name)?.restarts;
}

const PY_COUNTER = 'import time\nn = 0\ndef count():\n    global n\n    n += 1\n    return n\ndef spin():\n    while True:\n        time.sleep(0.01)\n';

test('Python: after a rejected broken save, a timed-out call restarts the module from its last good version, not the broken file', async () => {
  writeInPlace(d.modulesDir, 'pysnap.py', PY_COUNTER);
  assert.equal(await c.callFunction('pysnap', 'count'), 1);
  writeAtomic(d.modulesDir, 'pysnap.py', 'def count(:\n');
  await waitFor(async () => /SyntaxError/.test(await lastError('pysnap')), { what: 'the broken save rejected' });
  assert.equal((await daemonError(c.callFunction('pysnap', 'spin', [], { timeoutS: 1 }))).code, 'CALL_TIMEOUT');
  // Restarted from the snapshot of v1: fresh state, the good code.
  assert.equal(await c.callFunction('pysnap', 'count'), 1);
});

test('a rejected reload does not retire the serving version (its state survives), TypeScript and Python', async () => {
  writeInPlace(d.modulesDir, 'tscount.ts', 'let n = 0;\nexport function count(): number { return ++n; }\n');
  writeInPlace(d.modulesDir, 'pycount.py', PY_COUNTER);
  for (const name of ['tscount', 'pycount']) {
    assert.equal(await c.callFunction(name, 'count'), 1);
    assert.equal(await c.callFunction(name, 'count'), 2);
  }
  // A save that fails at import time (it compiles, then throws while loading).
  writeAtomic(d.modulesDir, 'tscount.ts', 'throw new Error("broken at load");\nexport function count(): number { return 0; }\n');
  writeAtomic(d.modulesDir, 'pycount.py', 'raise RuntimeError("broken at load")\ndef count():\n    return 0\n');
  for (const name of ['tscount', 'pycount']) {
    await waitFor(async () => /broken at load/.test(await lastError(name)), { what: `${name}: the broken save rejected` });
    assert.equal(await c.callFunction(name, 'count'), 3, `${name} kept serving with its state`);
    assert.equal((await daemonError(c.loadModule(name))).code, 'MODULE_LOAD_FAILED');
    assert.equal(await c.callFunction(name, 'count'), 4, `${name} kept serving after a rejected load_module`);
    assert.equal(await restartsOf(name), 0);
  }
});

test('Python: a result nested too deep answers RESULT_NOT_SERIALIZABLE at once, and the module keeps its state', async () => {
  writeInPlace(d.modulesDir, 'pydeep.py', 'n = 0\ndef count():\n    global n\n    n += 1\n    return n\ndef deep():\n    x = []\n    for _ in range(100000):\n        x = [x]\n    return x\n');
  assert.equal(await c.callFunction('pydeep', 'count'), 1);
  const t0 = Date.now();
  const err = await daemonError(c.callFunction('pydeep', 'deep', [], { timeoutS: 20 }));
  assert.equal(err.code, 'RESULT_NOT_SERIALIZABLE');
  assert.ok(Date.now() - t0 < 10_000, `answered in ${Date.now() - t0} ms`);
  assert.equal(await c.callFunction('pydeep', 'count'), 2);
  assert.equal(await restartsOf('pydeep'), 0);
});

const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n);

for (const [lang, file, source] of [
  ['Python', 'pyargs.py', 'import time\ndef slow():\n    time.sleep(2.5)\n    return "slow done"\ndef take(x):\n    return 1\n'],
  ['TypeScript', 'tsargs.ts', 'export async function slow(): Promise<string> { await new Promise((r) => setTimeout(r, 2500)); return "slow done"; }\nexport function take(x: unknown): number { return 1; }\n'],
] as const) {
  test(`${lang}: arguments nested 100,000 deep fail alone with INVALID_PARAMS; no deadline is left armed, nothing else moves`, async () => {
    const name = file.replace(/\..*/, '');
    writeInPlace(d.modulesDir, file, source);
    await c.loadModule(name);
    const slow = c.callFunction(name, 'slow', [], { timeoutS: 20 });
    const raw = await RawConn.open(d.socket);
    try {
      // 100,000 levels cannot even be serialized by the daemon; 1,500 can, but Python's json cannot read them back.
      for (const depth of lang === 'Python' ? [100_000, 1_500] : [100_000]) {
        raw.send(`{"command":"call_function","id":"deep${depth}","module_name":"${name}","function_name":"take","timeout_s":1,"args":[${deep(depth)}]}\n`);
        const reply = await waitFor(() => raw.replies.find((r) => r.id === `deep${depth}`), { timeoutMs: 15_000, what: 'the reply to the deep call' });
        assert.equal(reply.success, false);
        assert.equal(reply.code, 'INVALID_PARAMS', `${depth}: ${String(reply.error)}`);
      }
    } finally {
      raw.close();
    }
    // The slow call outlives the deep call's 1 s deadline: had it stayed armed, it would restart the module.
    assert.equal(await slow, 'slow done');
    assert.equal(await restartsOf(name), 0);
    assert.equal(await c.callFunction(name, 'take', [[[1]]]), 1);
  });
}

test('Python: a call that forks answers from the host process only; the child cannot answer', async () => {
  writeInPlace(d.modulesDir, 'pyfork.py', 'import os\ndef forky():\n    pid = os.fork()\n    if pid == 0:\n        return "child"\n    os.waitpid(pid, 0)\n    return "parent"\n');
  assert.equal(await c.callFunction('pyfork', 'forky'), 'parent');
  assert.equal(await c.callFunction('pyfork', 'forky'), 'parent');
  assert.equal(await restartsOf('pyfork'), 0);
});

test('Python: an exception whose __str__ raises is a FUNCTION_ERROR with the best message available', async () => {
  writeInPlace(
    d.modulesDir,
    'pystr.py',
    'class Bad(Exception):\n    def __str__(self):\n        raise ValueError("no str")\nclass Worse(Exception):\n    def __str__(self):\n        raise SystemExit(3)\n    def __repr__(self):\n        raise SystemExit(3)\n' +
      // Even the traceback module gives up on this one (its __notes__ raise): the host must still answer.
      'class Noted(Exception):\n    @property\n    def __notes__(self):\n        raise ValueError("no notes")\n' +
      'def bad():\n    raise Bad("the args")\ndef worse():\n    raise Worse("worse args")\ndef noted():\n    raise Noted("noted args")\ndef ok():\n    return 1\n',
  );
  for (const [fn, text] of [['bad', /Bad.*the args/], ['worse', /Worse.*worse args/], ['noted', /Noted\('noted args'\)/]] as const) {
    const err = await daemonError(c.callFunction('pystr', fn, [], { timeoutS: 5 }));
    assert.equal(err.code, 'FUNCTION_ERROR', `${fn}: ${err.message}`);
    assert.match(err.message, text);
  }
  assert.equal(await c.callFunction('pystr', 'ok'), 1);
  assert.equal(await restartsOf('pystr'), 0);
});

test('version numbers never go backwards: not after unload, not across a daemon restart', async () => {
  writeInPlace(d.modulesDir, 'vers.js', 'export function f() { return 1; }\n');
  assert.equal((await c.loadModule('vers')).version, 1);
  assert.equal((await c.loadModule('vers')).version, 2);
  assert.equal((await c.unloadModule('vers')).version, 2);
  assert.equal((await c.loadModule('vers')).version, 3);
  await c.unloadModule('vers');
  assert.equal(await c.callFunction('vers', 'f'), 1);
  assert.equal((await c.listModules()).modules.find((m) => m.module === 'vers')?.version, 4);
  c.close();
  await d.stop();
  await d.restart();
  c = await d.client();
  assert.equal((await c.loadModule('vers')).version, 5);
  // A damaged counter file (or a symlink planted there) is reported and replaced, never followed; the daemon serves on.
  c.close();
  await d.stop();
  const file = path.join(d.home, 'module-versions.json');
  const target = path.join(d.dir, 'elsewhere.json');
  fs.writeFileSync(target, '{"vers": 41}');
  fs.rmSync(file);
  fs.symlinkSync(target, file);
  await d.restart();
  c = await d.client();
  assert.equal((await c.loadModule('vers')).version, 1);
  assert.match(d.log(), /module-versions\.json: .*symbolic link/);
  assert.equal(fs.readFileSync(target, 'utf8'), '{"vers": 41}');
  assert.ok(!fs.lstatSync(file).isSymbolicLink());
  c.close();
  await d.stop();
  fs.writeFileSync(file, '{"vers": 3');
  await d.restart();
  c = await d.client();
  assert.equal((await c.loadModule('vers')).version, 1);
  assert.match(d.log(), /module-versions\.json: .*JSON/);
});

test('TypeScript: a result nested too deep answers RESULT_NOT_SERIALIZABLE at once; the module keeps serving', async () => {
  writeInPlace(d.modulesDir, 'tsdeep.ts', 'let n = 0;\nexport function deep(levels: number) { let v: unknown = 1; for (let i = 0; i < levels; i++) v = [v]; return v; }\nexport function count() { return ++n; }\n');
  await c.loadModule('tsdeep');
  assert.equal(await c.callFunction('tsdeep', 'count'), 1);
  for (const levels of [5_000, 8_000, 20_000]) {
    const t0 = Date.now();
    const e = await daemonError(c.callFunction('tsdeep', 'deep', [levels], { timeoutS: 10 }));
    assert.equal(e.code, 'RESULT_NOT_SERIALIZABLE', `${levels} levels: ${e.code} ${e.message}`);
    assert.ok(Date.now() - t0 < 5000, 'at once, not at the deadline');
  }
  assert.deepEqual(await c.callFunction('tsdeep', 'deep', [3]), [[[1]]]);
  assert.equal(await c.callFunction('tsdeep', 'count'), 2, 'same worker, state kept');
  assert.equal(await restartsOf('tsdeep'), 0);
});

test('TypeScript: a thrown value that cannot be printed (toString throws, a Proxy around an Error) is a FUNCTION_ERROR, not a crash', async () => {
  writeInPlace(
    d.modulesDir,
    'tsthrow.ts',
    [
      'let n = 0;',
      'export function count() { return ++n; }',
      'export function badString() { throw { toString() { throw new Error("no"); }, toJSON() { throw new Error("no"); } }; }',
      'export function proxied() { throw new Proxy(new Error("inner"), { get() { throw new Error("trap"); }, getPrototypeOf() { return Error.prototype; } }); }',
      '',
    ].join('\n'),
  );
  await c.loadModule('tsthrow');
  assert.equal(await c.callFunction('tsthrow', 'count'), 1);
  for (const fn of ['badString', 'proxied']) {
    const e = await daemonError(c.callFunction('tsthrow', fn, [], { timeoutS: 10 }));
    assert.equal(e.code, 'FUNCTION_ERROR', `${fn}: ${e.code} ${e.message}`);
  }
  assert.equal(await c.callFunction('tsthrow', 'count'), 2, 'same worker, state kept');
  assert.equal(await restartsOf('tsthrow'), 0);
});
