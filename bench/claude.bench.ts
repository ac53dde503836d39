/**
 * The daemon's added cost per `claude` run, against the local mock API, in one run:
 *
 * 1. Wall time: 20 real `claude -p` runs started directly (the floor: spawn with stdout to a file,
 *    wait for the exit, parse the result line) against 20 through the daemon (`spawn_claude` then
 *    `claude_result {wait}`), interleaved one by one so load drifts hit both sides alike.
 *    Target: under 5% more wall time.
 * 2. Memory: the daemon's RSS growth per tracked run, over the 20 real runs and over 300 runs of
 *    the fake stand-in replaying a captured real stream (cheap, so the figure is not lost in the
 *    noise of heap growth), against a floor of 300 plain `spawn_process` records. Target: under
 *    50 KB per tracked run.
 *
 * Run: `node scripts/build.mjs && node --import tsx bench/claude.bench.ts`
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StreamTracker } from '../src/daemon/claude/tracker.js';
import { buildClaudeArgs } from '../src/daemon/claude/argv.js';
import type { DaemonClient } from '../src/index.js';
import { FIXTURES, startTestDaemon, type TestDaemon } from '../test/helpers/daemon.js';
import { offlineClaudeEnv, startMockAnthropic } from '../test/helpers/mock-anthropic.js';

const RUNS = 20;
const MEM_RUNS = 300;
const FAKE = path.join(FIXTURES, 'fake-claude', 'claude');
const REPLAY = path.join(FIXTURES, 'claude', 'example-stream-json-tool.txt');

const mock = await startMockAnthropic();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cd-claude-bench-'));
const env = offlineClaudeEnv(mock, dir);
const cwd = path.join(dir, 'cwd');
fs.mkdirSync(cwd);
const d: TestDaemon = await startTestDaemon({ env });
const c: DaemonClient = await d.client();

/** One real run started directly, as the floor: stdout to a file, wait, parse the result. */
async function direct(i: number): Promise<number> {
  const t0 = performance.now();
  const out = path.join(dir, `direct-${i}.jsonl`);
  const fd = fs.openSync(out, 'w');
  const child = spawn(env['CLAUDE_BIN']!, buildClaudeArgs({ prompt: `bench run ${i}` }), { cwd, env: { ...process.env, ...env }, stdio: ['ignore', fd, 'ignore'], detached: true });
  fs.closeSync(fd);
  await new Promise((r) => child.on('exit', r));
  const t = new StreamTracker();
  t.push(fs.readFileSync(out));
  t.finish();
  if (t.info.result !== `MOCK REPLY: bench run ${i}`) throw new Error(`direct run ${i}: ${t.info.result}`);
  return performance.now() - t0;
}

/** The daemon's own share of each run: the spawn_claude round trip, and exit -> claude_result reply. */
const spawnAckMs: number[] = [];
const endToReplyMs: number[] = [];

/** The same run through the daemon. */
async function viaDaemon(i: number): Promise<number> {
  const t0 = performance.now();
  const rec = await c.spawnClaude({ prompt: `bench run ${i}`, cwd });
  spawnAckMs.push(performance.now() - t0);
  const r = await c.claudeResult({ process_id: rec.process_id, wait: true });
  const replyAt = Date.now();
  const took = performance.now() - t0;
  if (r.result !== `MOCK REPLY: bench run ${i}`) throw new Error(`daemon run ${i}: ${r.result}`);
  const info = await c.processInfo(rec.process_id);
  endToReplyMs.push(replyAt - Date.parse(info.ended_at!));
  return took;
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
const pid = d.proc.pid!;

// Warm-up (page cache for the 245 MB binary, code paths in the daemon).
await direct(-1);
await viaDaemon(-2);

const rss0 = rssKb(pid);
const directMs: number[] = [];
const daemonMs: number[] = [];
for (let i = 0; i < RUNS; i++) {
  // Alternate which side goes first so neither always runs right after the other.
  if (i % 2 === 0) {
    directMs.push(await direct(i));
    daemonMs.push(await viaDaemon(i));
  } else {
    daemonMs.push(await viaDaemon(i));
    directMs.push(await direct(i));
  }
}
const rss1 = rssKb(pid);

// Memory floor: plain process records; then tracked claude runs replaying a real stream.
async function batch(n: number, make: (i: number) => Promise<{ process_id: string }>): Promise<void> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 10) ids.push(...(await Promise.all(Array.from({ length: Math.min(10, n - i) }, (_, k) => make(i + k)))).map((r) => r.process_id));
  await Promise.all(ids.map((id) => c.waitProcess({ process_id: id })));
}
const rssPlain0 = rssKb(pid);
await batch(MEM_RUNS, (i) => c.spawnProcess({ cmd: [FAKE, `plain ${i}`], process_id: `plain-${i}` }));
const rssPlain1 = rssKb(pid);
await batch(MEM_RUNS, (i) => c.spawnClaude({ prompt: `FAKE_REPLAY:${REPLAY} ${i}`, env: { CLAUDE_BIN: FAKE }, process_id: `replay-${i}` }));
const rssReplay1 = rssKb(pid);
const replayed = (await c.listProcesses()).processes.filter((p) => p.process_id.startsWith('replay-'));
if (!replayed.every((p) => (p.claude as { result?: string } | undefined)?.result === 'MOCK REPLY: tool said hi-from-bash')) throw new Error('a replayed run was not parsed');

const totalDirect = sum(directMs);
const totalDaemon = sum(daemonMs);
const f = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
console.log(`claude runs against the mock API (${RUNS} each side, interleaved; ${os.cpus().length} cores)`);
console.log(`  direct (floor):  total ${f(totalDirect)}, median ${median(directMs).toFixed(0)} ms/run`);
console.log(`  via the daemon:  total ${f(totalDaemon)}, median ${median(daemonMs).toFixed(0)} ms/run`);
const pairRatios = daemonMs.map((ms, i) => ms / directMs[i]!);
console.log(`  ratio daemon/direct: total ${(totalDaemon / totalDirect).toFixed(3)}x, median ${(median(daemonMs) / median(directMs)).toFixed(3)}x, median of pairs ${median(pairRatios).toFixed(3)}x (target < 1.05x)`);
console.log(`  added wall time per run: ${((totalDaemon - totalDirect) / RUNS).toFixed(0)} ms mean`);
console.log(`  the daemon's own share: spawn_claude acknowledged in ${median(spawnAckMs).toFixed(1)} ms (median), claude_result answered ${median(endToReplyMs).toFixed(1)} ms (median) after the process exited`);
console.log(`daemon RSS: ${rss0} kB before, ${rss1} kB after ${RUNS} real runs: ${((rss1 - rss0) / RUNS).toFixed(1)} kB per tracked run`);
const plainPer = (rssPlain1 - rssPlain0) / MEM_RUNS;
const replayPer = (rssReplay1 - rssPlain1) / MEM_RUNS;
console.log(`  floor, ${MEM_RUNS} plain spawn_process records: ${plainPer.toFixed(1)} kB per record`);
console.log(`  ${MEM_RUNS} tracked claude runs (fake replaying a real tool-run stream): ${replayPer.toFixed(1)} kB per run, ${(replayPer - plainPer).toFixed(1)} kB over the floor (target < 50 kB)`);

await d.stop();
await mock.close();
fs.rmSync(dir, { recursive: true, force: true });
