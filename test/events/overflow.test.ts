/**
 * A watcher that stops reading is dropped with a final overflow notice once its unsent bytes pass
 * the budget (shrunk here to 64 KiB), while other clients keep getting prompt answers; it can
 * resume from the notice's last_seq and miss nothing.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { startTestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';
import { collect } from './util.js';

test('a non-reading watcher is dropped with an overflow event; other clients keep getting answers promptly', async () => {
  const d = await startTestDaemon({ env: { CLAUDE_DAEMON_EVENT_BUDGET_BYTES: String(64 * 1024) } });
  const stuck = net.createConnection(d.socket);
  try {
    await new Promise<void>((r) => stuck.once('connect', () => r()));
    stuck.pause(); // Reads nothing from here on.
    stuck.write(JSON.stringify({ command: 'watch', id: 'w' }) + '\n');
    const c = await d.client();
    const bystander = await d.client();
    const pings: number[] = [];
    // Each `spawned` event carries the command line: 60 KB apiece fills any socket buffer fast.
    const big = 'x'.repeat(60_000);
    for (let i = 0; i < 40; i++) {
      await c.spawnProcess({ cmd: ['true', big], process_id: `big-${i}` });
      const t0 = performance.now();
      await bystander.ping();
      pings.push(performance.now() - t0);
    }
    pings.sort((a, b) => a - b);
    assert.ok(pings[Math.floor(pings.length / 2)]! < 500, `bystander ping p50 ${pings[Math.floor(pings.length / 2)]} ms`);
    await waitFor(async () => (await c.listProcesses({ status: 'exited' })).processes.length === 40, { what: '40 ends' });

    // Now read what the stuck client was sent.
    let text = '';
    stuck.setEncoding('utf8');
    stuck.on('data', (s: string) => (text += s));
    stuck.resume();
    await waitFor(() => text.includes('"type":"overflow"'), { what: 'the overflow notice' });
    stuck.write(JSON.stringify({ command: 'ping', id: 'still-served' }) + '\n');
    await waitFor(() => text.includes('"id":"still-served"'), { what: 'a ping on the same connection' });
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const events = lines.filter((l) => l['event'] === true);
    const over = events.at(-1)!;
    assert.equal(over['type'], 'overflow', 'the overflow notice is the last event line');
    assert.equal(over['seq'], null);
    const data = over['data'] as { last_seq: number; budget_bytes: number };
    assert.equal(data.budget_bytes, 64 * 1024);
    const seen = events.filter((e) => typeof e['seq'] === 'number').map((e) => e['seq'] as number);
    assert.ok(seen.length < 120, `dropped before all 120 events (${seen.length} written)`);
    assert.equal(data.last_seq, seen.at(-1), 'last_seq is the last event it was sent');
    // Resuming from last_seq misses nothing.
    const resumed = c.watch({ since_seq: data.last_seq });
    const rest = await collect(resumed, (all) => all.some((e) => e.type === 'caught_up'));
    const restSeqs = rest.filter((e) => e.seq !== null).map((e) => e.seq!);
    assert.deepEqual([...seen, ...restSeqs], Array.from({ length: 120 }, (_, i) => i + 1));
    await resumed.return();
  } finally {
    stuck.destroy();
    await d.stop();
  }
});
