/**
 * Lineage (issue 13): every child knows its own id (CLAUDE_DAEMON_PROCESS_ID), and both client
 * libraries (so the CLI too) send it as `parent` when spawning from inside a tracked process;
 * `list --tree`, the `parent` filter, `kill_process {cascade}` deepest first, and `remove_process`
 * refused with live descendants unless `cascade`. Real processes, real CLIs.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { DaemonClient } from '../../src/index.js';
import { BIN, ROOT, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';
import { alive } from '../processes/util.js';
import { codeOf } from '../helpers/error-code.js';

// The suite may itself run inside a tracked process: its own spawns must not carry that parent.
delete process.env['CLAUDE_DAEMON_PROCESS_ID'];

const PY_CLIENT = path.join(ROOT, 'python', 'client.py');

let d: TestDaemon;
let c: DaemonClient;
before(async () => {
  d = await startTestDaemon();
  c = await d.client();
});
after(async () => {
  await d?.stop({ killProcesses: true });
});

/** python/client.py ARGS; its stdout. */
function runPy(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('python3', [PY_CLIENT, ...args], { timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}: ${stderr}`)) : resolve(stdout)));
  });
}

const sq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

async function outputOf(id: string): Promise<string> {
  await c.waitProcess({ process_id: id, timeout_s: 30 });
  return (await c.readOutput({ process_id: id })).data;
}

/** A process that appends its id to `log` when SIGTERM reaches it, then exits. */
function logsItsEnd(log: string): string[] {
  return ['sh', '-c', `trap 'echo "$CLAUDE_DAEMON_PROCESS_ID" >> ${sq(log)}; exit 0' TERM; while :; do sleep 0.05; done`];
}

test('lineage: every child (claude runs too) has its own id in CLAUDE_DAEMON_PROCESS_ID, over any env given', async () => {
  await c.spawnProcess({ cmd: ['sh', '-c', 'echo "$CLAUDE_DAEMON_PROCESS_ID"'], process_id: 'env-self', env: { CLAUDE_DAEMON_PROCESS_ID: 'spoofed' } });
  assert.equal(await outputOf('env-self'), 'env-self\n');
  const seen = path.join(d.dir, 'claude-seen');
  const bin = path.join(d.dir, 'claude');
  fs.writeFileSync(bin, `#!/bin/sh\necho "$CLAUDE_DAEMON_PROCESS_ID" > ${sq(seen)}\n`, { mode: 0o755 });
  const run = await c.spawnClaude({ prompt: 'hi', process_id: 'env-claude', env: { CLAUDE_BIN: bin } });
  assert.ok(run.claude);
  await c.waitProcess({ process_id: 'env-claude', timeout_s: 30 });
  assert.equal(fs.readFileSync(seen, 'utf8'), 'env-claude\n');
});

test('lineage: a tracked shell child that runs the CLI records its parent automatically; --parent and an unknown parent are recorded as given', async () => {
  const cli = (args: string): string => `${sq(process.execPath)} ${sq(BIN)} --socket ${sq(d.socket)} ${args}`;
  await c.spawnProcess({
    process_id: 'shell-parent',
    cmd: ['sh', '-c', `${cli('spawn --id cli-kid -- true')} && ${cli('spawn --id cli-explicit --parent env-self -- true')} && ${cli('claude hi --id cli-claude --env CLAUDE_BIN=/bin/true')}`],
  });
  await c.waitProcess({ process_id: 'shell-parent', timeout_s: 60 });
  const out = (await c.readOutput({ process_id: 'shell-parent', stream: 'stderr' })).data;
  assert.equal((await c.processInfo('shell-parent')).exit_code, 0, out);
  assert.equal((await c.processInfo('cli-kid')).parent, 'shell-parent');
  assert.equal((await c.processInfo('cli-claude')).parent, 'shell-parent', 'spawn_claude through the CLI too');
  assert.equal((await c.processInfo('cli-explicit')).parent, 'env-self', 'an explicit --parent wins');
  const info = await d.cli(['info', 'cli-kid']);
  assert.match(info.stdout, /^parent: +shell-parent$/m);
  const pyInfo = await runPy(['--socket', d.socket, 'info', 'cli-kid']);
  assert.match(pyInfo, /^parent: +shell-parent$/m);
  const unknown = await c.spawnProcess({ cmd: ['true'], parent: 'no-such-process' });
  assert.equal(unknown.parent, 'no-such-process');
  const none = await c.spawnProcess({ cmd: ['true'] });
  assert.equal(none.parent, null);
  assert.deepEqual((await c.listProcesses({ parent: 'shell-parent' })).processes.map((p) => p.process_id), ['cli-kid', 'cli-claude']);
});

test('lineage: the python client (library and CLI) run from a tracked process records its parent automatically', async () => {
  const lib = `import sys; sys.path.insert(0, ${JSON.stringify(path.dirname(PY_CLIENT))}); import client; client.SOCKET_PATH = ${JSON.stringify(d.socket)}; ` +
    `client.spawn_process(['true'], process_id='py-lib-kid'); client.spawn_process(['true'], process_id='py-lib-none', parent=False)`;
  await c.spawnProcess({
    process_id: 'py-parent',
    cmd: ['sh', '-c', `python3 -c ${sq(lib)} && python3 ${sq(PY_CLIENT)} --socket ${sq(d.socket)} spawn --id py-cli-kid -- true`],
  });
  await c.waitProcess({ process_id: 'py-parent', timeout_s: 60 });
  assert.equal((await c.processInfo('py-parent')).exit_code, 0, (await c.readOutput({ process_id: 'py-parent', stream: 'stderr' })).data);
  assert.equal((await c.processInfo('py-lib-kid')).parent, 'py-parent');
  assert.equal((await c.processInfo('py-cli-kid')).parent, 'py-parent');
  assert.equal((await c.processInfo('py-lib-none')).parent, null, 'parent=False sends none');
});

test('lineage: kill_process {cascade} ends a 3-level tree deepest first; list --tree indents it', async () => {
  const log = path.join(d.dir, 'cascade.log');
  const spawn = (id: string, parent?: string): ReturnType<DaemonClient['spawnProcess']> => c.spawnProcess({ process_id: id, cmd: logsItsEnd(log), ...(parent ? { parent } : {}) });
  await spawn('t-root');
  await spawn('t-mid1', 't-root');
  await spawn('t-mid2', 't-root');
  await spawn('t-leaf', 't-mid1');
  await spawn('t-other');
  const tree = await d.cli(['list', '--tree']);
  assert.equal(tree.code, 0, tree.stderr);
  const lines = tree.stdout.split('\n');
  const row = (id: string): number => lines.findIndex((l) => l.trimStart().replace(/^└ /, '').startsWith(`${id} `));
  assert.ok(row('t-root') < row('t-mid1') && row('t-mid1') < row('t-leaf') && row('t-leaf') < row('t-mid2'), tree.stdout);
  assert.match(lines[row('t-mid1')]!, /^└ t-mid1 /);
  assert.match(lines[row('t-leaf')]!, /^ {2}└ t-leaf /);
  assert.match(lines[row('t-root')]!, /^t-root /);

  const k = await c.killProcess({ process_id: 't-root', cascade: true, grace_s: 10 });
  assert.equal(k.status, 'exited', 'its trap ran: SIGTERM reached it');
  assert.deepEqual(k.cascade, ['t-leaf', 't-mid1', 't-mid2']);
  const order = fs.readFileSync(log, 'utf8').trim().split('\n');
  assert.equal(order.length, 4, order.join(','));
  assert.equal(order[0], 't-leaf', `deepest first: ${order.join(',')}`);
  assert.deepEqual(order.slice(1, 3).sort(), ['t-mid1', 't-mid2']);
  assert.equal(order[3], 't-root');
  const ends = Object.fromEntries((await c.listProcesses()).processes.map((p) => [p.process_id, Date.parse(p.ended_at ?? '')]));
  assert.ok(ends['t-leaf']! <= ends['t-mid1']! && ends['t-mid1']! <= ends['t-root']! && ends['t-mid2']! <= ends['t-root']!);
  assert.equal((await c.processInfo('t-other')).status, 'running', 'a process outside the tree is untouched');
  await c.killProcess({ process_id: 't-other' });
});

test('lineage: remove_process of a record with live descendants is refused (PROCESS_HAS_DESCENDANTS); with cascade the subtree is ended and removed', async () => {
  await c.spawnProcess({ process_id: 'r-root', cmd: ['true'] });
  await c.waitProcess({ process_id: 'r-root', timeout_s: 20 });
  const mid = await c.spawnProcess({ process_id: 'r-mid', cmd: ['true'], parent: 'r-root' });
  await c.waitProcess({ process_id: 'r-mid', timeout_s: 20 });
  const leaf = await c.spawnProcess({ process_id: 'r-leaf', cmd: ['sleep', '30'], parent: 'r-mid' });
  assert.equal(await codeOf(c.removeProcess('r-root')), 'PROCESS_HAS_DESCENDANTS', 'a running grandchild counts');
  assert.equal(await codeOf(c.removeProcess('r-mid')), 'PROCESS_HAS_DESCENDANTS');
  const cli = await d.cli(['rm', 'r-root']);
  assert.equal(cli.code, 1);
  assert.match(cli.stderr, /PROCESS_HAS_DESCENDANTS.*r-leaf.*--cascade/);
  assert.equal((await c.processInfo('r-leaf')).status, 'running', 'a refused removal ends nothing');
  const r = await d.cli(['rm', 'r-root', '--cascade', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { removed: true, process_id: 'r-root', cascade: ['r-leaf', 'r-mid'] });
  const ids = (await c.listProcesses()).processes.map((p) => p.process_id);
  for (const id of ['r-root', 'r-mid', 'r-leaf']) assert.ok(!ids.includes(id), id);
  await waitFor(() => !alive(leaf.pid!), { what: 'the removed leaf to be dead' });
  assert.ok(mid.pid !== null);
  // Ended descendants do not block a removal; they stay, naming the removed parent.
  await c.spawnProcess({ process_id: 'e-root', cmd: ['true'] });
  await c.spawnProcess({ process_id: 'e-kid', cmd: ['true'], parent: 'e-root' });
  await c.waitProcess({ process_id: 'e-root', timeout_s: 20 });
  await c.waitProcess({ process_id: 'e-kid', timeout_s: 20 });
  await c.removeProcess('e-root');
  assert.equal((await c.processInfo('e-kid')).parent, 'e-root');
});

test('lineage: a cascade drops queued descendants before it kills anything, so no freed slot starts one', async () => {
  const q = await startTestDaemon({ args: ['--max-running', '3'] });
  try {
    const k = await q.client();
    await k.spawnProcess({ process_id: 'q-root', cmd: ['sleep', '30'] });
    await k.spawnProcess({ process_id: 'q-a', cmd: ['sleep', '30'], parent: 'q-root' });
    await k.spawnProcess({ process_id: 'q-a1', cmd: ['sleep', '30'], parent: 'q-a' });
    const queued = await k.spawnProcess({ process_id: 'q-b', cmd: ['sleep', '30'], parent: 'q-root' });
    assert.equal(queued.status, 'queued');
    const r = await k.killProcess({ process_id: 'q-root', cascade: true });
    assert.deepEqual(r.cascade, ['q-b', 'q-a1', 'q-a']);
    const b = await k.processInfo('q-b');
    assert.equal(b.status, 'killed');
    assert.equal(b.started_at, null, 'it never ran');
  } finally {
    await q.stop({ killProcesses: true });
  }
});
