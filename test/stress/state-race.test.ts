/**
 * One daemon per state directory, under a start race: 10 `start`s at once on one home (half on one
 * socket, half on sockets of their own), 3 rounds. Each round, work was queued (behind a running
 * blocker, with --max-running 1) before the race, and the racers run with room for all of it: any
 * daemon that restored the records would start it at once. Exactly one racer serves, the other nine
 * exit 1 naming it, and every queued job runs exactly once.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { connect } from '../../src/index.js';
import { BIN, pingOnce, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';
import { fx, waitOutput } from '../processes/util.js';

const RACERS = 10;
const ROUNDS = 3;
const JOBS = 6;

let d: TestDaemon | undefined;
const racers: ChildProcess[] = [];
/** Blockers' wrapper pids, ended at the end whatever happened. */
const blockers: number[] = [];
after(async () => {
  for (const r of racers) if (r.exitCode === null && r.signalCode === null) r.kill('SIGKILL');
  for (const pid of blockers) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Ended.
    }
  }
  if (d) fs.rmSync(d.dir, { recursive: true, force: true });
});

interface Racer {
  proc: ChildProcess;
  socket: string;
  stderr: string;
  exited: Promise<number | null>;
}

function race(socket: string, home: string, modulesDir: string): Racer {
  const proc = spawn(process.execPath, [BIN, 'start', '--socket', socket, '--home', home, '--modules-dir', modulesDir, '--max-running', '100'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, CLAUDE_DAEMON_QUIET: '1' },
  });
  racers.push(proc);
  const r: Racer = { proc, socket, stderr: '', exited: new Promise((res) => proc.once('exit', (code) => res(code))) };
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => (r.stderr += s));
  return r;
}

test(`${RACERS} starts at once on one home: exactly one serves, every queued job runs exactly once (${ROUNDS} rounds)`, async () => {
  const td = await startTestDaemon({ args: ['--max-running', '1'] });
  d = td;
  const mark = path.join(td.dir, 'ran');
  for (let round = 0; round < ROUNDS; round++) {
    // Before the race: a blocker runs, JOBS wait in the queue, and the daemon goes away.
    if (round > 0) await td.restart();
    const c = await td.client();
    const go = path.join(td.dir, `go-${round}`);
    blockers.push((await c.spawnProcess({ cmd: [fx('wait-file.sh'), go], process_id: `blocker-${round}` })).pid!);
    await waitOutput(c, `blocker-${round}`);
    const jobs = Array.from({ length: JOBS }, (_, i) => `job-${round}-${i}`);
    for (const id of jobs) await c.spawnProcess({ cmd: ['sh', '-c', `echo ${id} >> ${mark}`], process_id: id });
    assert.equal((await c.listProcesses({ status: 'queued' })).processes.length, JOBS);
    await td.stop();

    const shared = path.join(td.dir, `same-${round}.sock`);
    const all = Array.from({ length: RACERS }, (_, i) => race(i % 2 === 0 ? shared : path.join(td.dir, `own-${round}-${i}.sock`), td.home, td.modulesDir));
    // Nine give up; one serves until told to stop.
    await waitFor(() => all.filter((r) => r.proc.exitCode !== null).length >= RACERS - 1, { what: 'the losers to exit', timeoutMs: 120_000 });
    const winners = all.filter((r) => r.proc.exitCode === null);
    assert.equal(winners.length, 1, all.map((r) => `${r.proc.exitCode}: ${r.stderr}`).join('\n'));
    const winner = winners[0]!;
    await waitFor(() => pingOnce(winner.socket), { what: 'the winner to answer', timeoutMs: 60_000 });
    for (const r of all) {
      if (r === winner) continue;
      assert.equal(r.proc.exitCode, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`in use by another daemon \\(pid ${winner.proc.pid}, socket ${winner.socket.replace(/[.]/g, '\\.')}\\)`));
      if (r.socket !== winner.socket) assert.equal(fs.existsSync(r.socket), false, 'a loser never listens');
    }
    // The winner ran the queued jobs (it has room for them all); each ran exactly once.
    const w = await connect({ socketPath: winner.socket });
    for (const id of jobs) assert.equal((await w.waitProcess({ process_id: id, timeout_s: 60 })).exit_code, 0, id);
    fs.writeFileSync(go, '');
    await w.waitProcess({ process_id: `blocker-${round}`, timeout_s: 60 });
    const lines = fs.readFileSync(mark, 'utf8').split('\n').filter(Boolean);
    for (const id of jobs) assert.equal(lines.filter((l) => l === id).length, 1, `${id} ran ${lines.filter((l) => l === id).length} times`);
    await w.shutdown();
    w.close();
    assert.equal(await winner.exited, 0);
  }
});
