/**
 * What ended records cost the daemon: heap in use after a full GC per 1,000 ended records, plain
 * processes and claude runs (a `claude` stand-in that prints a recorded stream, detected by name),
 * claude runs with a 4.5 kB result, once settled (see src/daemon/supervisor/settle.ts); RSS growth alongside (mostly the allocator
 * keeping pages of the spawn burst, not the records); and `list_processes` of them, whole and paged. Main has no `records` stats (no settling): the wait for them is skipped there.
 * Measured 2026-12-02 (CLAUDE_DAEMON_EVENTS_OFF=1, so the bounded event ring is not counted; 1,000
 * records each): plain 1.53 kB, claude 1.54 kB, claude with a 4 KiB result 1.36 kB per record (before
 * the claude object and argv were cut in memory: 1.56 / 2.27-2.33 / 2.05-2.09 kB).
 * Run: node scripts/build.mjs && CLAUDE_DAEMON_EVENTS_OFF=1 node --import tsx bench/records.bench.ts [N]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type DaemonClient } from '../src/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'dist', 'bin.js');
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'cd-bench-rec-'));
const N = Number(process.argv[2] ?? 1000);
const claude = path.join(TMP, 'claude');
fs.writeFileSync(claude, `#!/bin/sh\nexec cat ${path.join(ROOT, 'test/fixtures/claude/example-stream-json.txt')}\n`, { mode: 0o755 });
// The same stream with a 4,500-character result (the record keeps 4 KiB of it).
const longStream = path.join(TMP, 'long.txt');
fs.writeFileSync(longStream, fs.readFileSync(path.join(ROOT, 'test/fixtures/claude/example-stream-json.txt'), 'utf8').split('\n').map((l) => (l.startsWith('{"type":"result"') ? JSON.stringify({ ...JSON.parse(l), result: 'r'.repeat(4500) }) : l)).join('\n'));
const claudeLong = path.join(TMP, 'long', 'claude');
fs.mkdirSync(path.dirname(claudeLong));
fs.writeFileSync(claudeLong, `#!/bin/sh\nexec cat ${longStream}\n`, { mode: 0o755 });
const socket = path.join(TMP, 's.sock');
const proc = spawn(process.execPath, [BIN, 'start', '--socket', socket, '--home', path.join(TMP, 'h'), '--max-running', '16'], { stdio: 'ignore', env: { ...process.env, CLAUDE_DAEMON_QUIET: '1' } });
let c!: DaemonClient;
for (let i = 0; ; i++) {
  try {
    c = await connect({ socketPath: socket });
    await c.ping();
    break;
  } catch {
    if (i > 300) throw new Error('daemon did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
}
const stats = async () => {
  await c.request('ping', { gc: true });
  return c.request('ping', { gc: true });
};
const CMDS: Record<string, string[]> = { plain: ['true'], claude: [claude, '-p', '--output-format', 'stream-json', '--verbose', '--', 'hi'], 'claude-4k': [claudeLong, '-p', '--output-format', 'stream-json', '--verbose', '--', 'hi'] };
async function batch(kind: string, n: number): Promise<void> {
  for (let i = 0; i < n; i += 50) {
    const rs = await Promise.all(Array.from({ length: Math.min(50, n - i) }, () => c.spawnProcess({ cmd: CMDS[kind]! })));
    await Promise.all(rs.map((r) => c.waitProcess({ process_id: r.process_id })));
  }
  const want = (await stats()).records?.total ?? 0;
  for (let t = 0; t < 100 && ((await c.request('ping', { stats: true })).records?.settled ?? Infinity) < want; t++) await new Promise((r) => setTimeout(r, 100));
}
await batch('plain', 100);
await batch('claude', 100);
for (const kind of ['plain', 'claude', 'claude-4k']) {
  const s0 = await stats();
  await batch(kind, N);
  const s1 = await stats();
  const per = (k: 'heap_used' | 'rss') => Math.round((s1.memory![k] - s0.memory![k]) / N);
  console.log(`${kind}: heap after GC +${per('heap_used')} B per ended record, RSS +${per('rss')} B (${N} records)`);
}
const time = async (f: () => Promise<unknown>): Promise<number> => {
  const ts: number[] = [];
  for (let i = 0; i < 21; i++) {
    const t = performance.now();
    await f();
    ts.push(performance.now() - t);
  }
  return ts.sort((a, b) => a - b)[10]!;
};
const whole = await time(() => c.listProcesses());
const page = await time(() => c.listProcesses({ limit: 50 }));
const ping = await time(() => c.ping());
console.log(`list_processes p50 of ${3 * N + 200} records: whole ${whole.toFixed(2)} ms, page of 50 ${page.toFixed(2)} ms; floor (ping) ${ping.toFixed(2)} ms; ratios ${(whole / ping).toFixed(1)}x / ${(page / ping).toFixed(1)}x`);
await c.request('shutdown', {});
await new Promise((r) => proc.on('exit', r));
fs.rmSync(TMP, { recursive: true, force: true });
process.exit(0);
