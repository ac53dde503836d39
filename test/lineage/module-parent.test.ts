/**
 * Lineage through module calls (issue 13: "a module call made on its behalf records its parent"):
 * `call_function` from a client inside a tracked process carries `parent`, and a spawn the module's
 * code makes through the package's client during that call records it: in JS (each call runs in an
 * AsyncLocalStorage context the client reads, so concurrent calls keep their own parent, across
 * awaits and through nested module calls) and in Python (the host names it on the call's thread).
 * The MCP server (run by a claude run) sends it too. A call from an untracked client records no parent. Real daemon, real CLIs, real module hosts.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { DaemonClient } from '../../src/index.js';
import { BIN, ROOT, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { startMcp } from '../mcp/server-harness.js';
import { writeInPlace } from '../modules/util.js';

// The suite may itself run inside a tracked process: its own calls must not carry that parent.
delete process.env['CLAUDE_DAEMON_PROCESS_ID'];

const PY_CLIENT = path.join(ROOT, 'python', 'client.py');

const JS_MODULE = `import { connect } from 'claude-daemon';
async function spawnKid(id: string, delayMs: number): Promise<string | null> {
  const c = await connect();
  try {
    // Across an await and a timer: the call's context stays with it.
    await new Promise((r) => setTimeout(r, delayMs));
    return (await c.spawnProcess({ cmd: ['true'], process_id: id })).parent ?? null;
  } finally {
    c.close();
  }
}
export function kid(id: string, delayMs = 0) { return spawnKid(id, Number(delayMs)); }
export async function viaPython(id: string) {
  const c = await connect();
  try {
    return await c.callFunction('linpy', 'kid', [id]);
  } finally {
    c.close();
  }
}
`;

const PY_MODULE = `import time
from client import spawn_process

def kid(id, delay_s=0):
    time.sleep(float(delay_s))
    return spawn_process(["true"], process_id=id)["parent"]
`;

let d: TestDaemon;
let c: DaemonClient;
before(async () => {
  d = await startTestDaemon();
  c = await d.client();
  writeInPlace(d.modulesDir, 'linjs.ts', JS_MODULE);
  writeInPlace(d.modulesDir, 'linpy.py', PY_MODULE);
});
after(async () => {
  await d?.stop({ killProcesses: true });
});

const sq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

async function parentOf(id: string): Promise<string | null | undefined> {
  return (await c.processInfo(id)).parent;
}

test('lineage: a tracked shell running `call` (JS CLI, Python CLI) makes the spawns of the module function record the shell as parent', async () => {
  const node = (args: string): string => `${sq(process.execPath)} ${sq(BIN)} --socket ${sq(d.socket)} call ${args}`;
  const py = (args: string): string => `python3 ${sq(PY_CLIENT)} --socket ${sq(d.socket)} call ${args}`;
  await c.spawnProcess({
    process_id: 'mod-shell',
    cmd: ['sh', '-c', [node('linjs kid js-kid'), node('linpy kid py-kid'), py('linjs kid js-kid-pycli'), node('linjs viaPython chain-kid')].join(' && ')],
  });
  await c.waitProcess({ process_id: 'mod-shell', timeout_s: 120 });
  const info = await c.processInfo('mod-shell');
  assert.equal(info.exit_code, 0, (await c.readOutput({ process_id: 'mod-shell', stream: 'stderr' })).data);
  assert.match((await c.readOutput({ process_id: 'mod-shell' })).data, /mod-shell/, 'the functions saw the parent in their spawn replies');
  assert.equal(await parentOf('js-kid'), 'mod-shell', 'JS module, called by the JS CLI');
  assert.equal(await parentOf('py-kid'), 'mod-shell', 'Python module, called by the JS CLI');
  assert.equal(await parentOf('js-kid-pycli'), 'mod-shell', 'JS module, called by the Python CLI');
  assert.equal(await parentOf('chain-kid'), 'mod-shell', 'through a nested call (JS module calling a Python one)');
});

test('lineage: concurrent module calls keep their own parent (JS worker, Python threads)', async () => {
  for (const [mod, ms] of [['linjs', 300], ['linpy', 0.3]] as const) {
    const calls = ['pa', 'pb', 'pc'].map((p, i) => c.callFunction(mod, 'kid', [`${mod}-${p}`, i === 0 ? ms : 0], { parent: p }));
    assert.deepEqual(await Promise.all(calls), ['pa', 'pb', 'pc'], mod);
    for (const p of ['pa', 'pb', 'pc']) assert.equal(await parentOf(`${mod}-${p}`), p);
  }
});

test('lineage: a module call from an untracked client (or with parent null) records no parent', async () => {
  assert.equal(await c.callFunction('linjs', 'kid', ['js-orphan']), null);
  assert.equal(await c.callFunction('linpy', 'kid', ['py-orphan']), null);
  assert.equal(await c.callFunction('linjs', 'kid', ['js-null'], { parent: null }), null);
  assert.equal(await parentOf('js-orphan'), null);
  assert.equal(await parentOf('py-orphan'), null);
  const cli = await d.cli(['call', 'linjs', 'kid', 'cli-orphan']);
  assert.equal(cli.code, 0, cli.stderr);
  assert.equal(await parentOf('cli-orphan'), null);
});

test('lineage: the MCP server inside a tracked process sends it as parent for call_function and spawns', async () => {
  const m = await startMcp(['--socket', d.socket, '--no-start'], { CLAUDE_DAEMON_PROCESS_ID: 'mod-shell' });
  try {
    await m.ok('call_function', { module_name: 'linjs', function_name: 'kid', args: ['mcp-kid'] });
    await m.ok('spawn_process', { cmd: ['true'], process_id: 'mcp-spawn' });
    await m.ok('call_function', { module_name: 'linpy', function_name: 'kid', args: ['mcp-none'], parent: null });
  } finally {
    await m.close();
  }
  assert.equal(await parentOf('mcp-kid'), 'mod-shell');
  assert.equal(await parentOf('mcp-spawn'), 'mod-shell');
  assert.equal(await parentOf('mcp-none'), null, 'an explicit null wins');
});
