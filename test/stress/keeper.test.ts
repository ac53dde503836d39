/**
 * The keeper under repeated killing: the daemon is SIGKILLed 10 times in a row while processes run
 * (each time a new daemon must start within 1 s and answer within 2 s, and nothing may be lost:
 * records, exit codes, output, the running children), and `pkill -9 node` is imitated (every node
 * process of this daemon, managed children included, killed again and again, even a daemon still
 * starting) while the C keeper carries on. The short version is test/reliability/keeper.test.ts.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import type { DaemonClient } from '../../src/index.js';
import { alive, startedAt, startKept, uptimeNow, type KeptDaemon } from '../helpers/kept.js';
import { listProcs } from '../helpers/proc.js';
import { waitFor } from '../helpers/wait.js';

const KILLS = 10;
const LINES = 200;
const PRINT = `i=0; while [ $i -lt ${LINES} ]; do echo "$0 line $i"; i=$((i+1)); done; exit "$1"`;
const printed = (id: string): string => Array.from({ length: LINES }, (_, i) => `${id} line ${i}\n`).join('');

/** What a finished process must look like. */
interface Expect {
  exit: number;
  out: string;
}

/** Every expected process is known; those that ended have their exact exit code and output. */
async function assertNothingLost(c: DaemonClient, expected: Map<string, Expect>, where: string): Promise<void> {
  const known = new Map((await c.listProcesses()).processes.map((p) => [p.process_id, p]));
  for (const [id, e] of expected) {
    const p = known.get(id);
    assert.ok(p, `${where}: ${id} is known`);
    if (p.status === 'running') continue;
    assert.equal(p.status, 'exited', `${where}: ${id}: ${JSON.stringify(p)}`);
    assert.equal(p.exit_code, e.exit, `${where}: ${id} exit code`);
    assert.equal((await c.readOutput({ process_id: id, max_bytes: 1 << 20 })).data, e.out, `${where}: ${id} output`);
  }
}

test(`the daemon SIGKILLed ${KILLS} times in a row while processes run: each time a new one starts within 1 s, answers within 2 s, and nothing is lost`, async (t) => {
  const k = await startKept();
  const expected = new Map<string, Expect>();
  const timings: string[] = [];
  try {
    let c = await k.client();
    const sleeper = await c.spawnProcess({ cmd: ['sleep', '1000'], process_id: 'sleeper' });
    let pid = (await k.ping())!.pid;
    for (let round = 0; round < KILLS; round++) {
      // Work that ends before, during and after the kill.
      for (const [id, cmd, code] of [
        [`print-${round}`, ['sh', '-c', PRINT, `print-${round}`, String(round)], round],
        [`slow-${round}`, ['sh', '-c', `echo start; sleep 0.${round % 5}; echo end; exit ${round + 100}`], round + 100],
      ] as const) {
        await c.spawnProcess({ cmd: [...cmd], process_id: id });
        expected.set(id, { exit: code, out: id.startsWith('print') ? printed(id) : 'start\nend\n' });
      }
      c.close();
      const killedAt = uptimeNow();
      const t0 = Date.now();
      process.kill(pid, 'SIGKILL');
      const r = await k.waitNewDaemon(pid, 30_000);
      const answered = Date.now() - t0;
      const started = startedAt(r.pid) - killedAt;
      timings.push(`${started.toFixed(2)}/${(answered / 1000).toFixed(2)}`);
      assert.ok(started < 1, `round ${round}: the new daemon started ${started.toFixed(2)} s after the kill`);
      assert.ok(answered < 2000, `round ${round}: answered ${answered} ms after the kill`);
      assert.equal(r.keeper?.restarts, round + 1);
      pid = r.pid;
      c = await k.client();
      const s = await c.processInfo('sleeper');
      assert.deepEqual([s.status, s.pid], ['running', sleeper.pid], `round ${round}: the sleeper is re-adopted`);
      await assertNothingLost(c, expected, `round ${round}`);
    }
    for (const id of expected.keys()) await c.waitProcess({ process_id: id, timeout_s: 30 });
    await assertNothingLost(c, expected, 'at the end');
    assert.equal((await c.killProcess({ process_id: 'sleeper' })).status, 'killed');
    t.diagnostic(`restart delay / answer after the kill, s: ${timings.join(' ')}`);
  } finally {
    await k.cleanup();
  }
});

/** Every node process of this daemon: the daemon itself and managed children carrying its mark. */
function nodeProcessesOf(k: KeptDaemon): number[] {
  return listProcs()
    .map((p) => p.pid)
    .filter((pid) => {
      try {
        if (fs.readlinkSync(`/proc/${pid}/exe`) !== process.execPath) return false;
        return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(k.dir) || fs.readFileSync(`/proc/${pid}/environ`, 'utf8').includes(k.dir);
      } catch {
        return false;
      }
    });
}

test('`pkill -9 node`, again and again: every node process of the daemon killed (a managed node child too, a daemon still starting too); the keeper brings the daemon back and every record holds', async () => {
  const k = await startKept();
  try {
    let c = await k.client();
    const shell = await c.spawnProcess({ cmd: ['sleep', '1000'], process_id: 'shell' });
    await c.spawnProcess({ cmd: [process.execPath, '-e', 'setInterval(() => {}, 1000)'], process_id: 'node-child', env: { MARK: k.dir } });
    await waitFor(async () => nodeProcessesOf(k).length === 2, { what: 'the daemon and the node child' });
    c.close();
    const first = (await k.ping())!.pid;
    // Five rounds, 150 ms apart: some hit a daemon that is still starting (then the keeper backs off).
    for (let i = 0; i < 5; i++) {
      for (const pid of nodeProcessesOf(k)) process.kill(pid, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 150));
    }
    assert.ok(alive(k.keeper!), 'the keeper is not a node process: it survives');
    const back = await k.waitNewDaemon(first, 30_000);
    assert.ok((back.keeper?.restarts ?? 0) >= 1);
    c = await k.client();
    const nodeChild = await c.waitProcess({ process_id: 'node-child', timeout_s: 20 });
    assert.deepEqual([nodeChild.status, nodeChild.signal], ['killed', 'SIGKILL'], 'the node child’s death is recorded exactly');
    const s = await c.processInfo('shell');
    assert.deepEqual([s.status, s.pid], ['running', shell.pid]);
    assert.equal((await c.killProcess({ process_id: 'shell' })).status, 'killed');
  } finally {
    await k.cleanup();
  }
});
