/**
 * Bounded memory, the heavy case from issue 10: 3 clients each pipeline 200 `read_output` of a
 * 16 MiB file (base64, max_bytes 16 MiB) and never read. Before the reply budget covered big
 * replies this drove the daemon to 4.3 GB RSS and another client's ping to 12 s. Now: RSS stays
 * under 250 MiB, a bystander's ping p99 under 100 ms, and RSS is back within 20% once they leave.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { bigOutput, ReadHog } from '../helpers/hog.js';
import { daemonMemory, mib, percentile, PingPipe, probeLatency, rssOf } from '../helpers/load.js';
import { waitFor } from '../helpers/wait.js';

const MiB = 1024 * 1024;
let d: TestDaemon;

before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d.stop();
});

test('3 clients x 200 pipelined 16 MiB reads they never read: RSS under 250 MiB, pings prompt, memory returns', async () => {
  const pid = d.proc.pid!;
  const c = await d.client();
  await bigOutput(c, 'big16', 16 * MiB);
  await daemonMemory(d.socket, true);
  const rssBefore = rssOf(pid).rss;
  const good = await PingPipe.open(d.socket);
  const hogs = await Promise.all(Array.from({ length: 3 }, () => ReadHog.open(d.socket, 'big16', 200, 16 * MiB)));
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid).rss)), 20);
  try {
    const lat = await probeLatency(good, 300);
    const p99 = percentile(lat, 99);
    peak = Math.max(peak, rssOf(pid).peak);
    console.log(`3 x 200 pipelined 16 MiB reads, never read: daemon RSS peak ${mib(peak)} MiB; bystander ping p50 ${percentile(lat, 50).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`);
    assert.deepEqual(good.bad, []);
    assert.ok(peak < 250 * MiB, `daemon RSS peaked at ${mib(peak)} MiB`);
    assert.ok(p99 < 100, `bystander ping p99 ${p99.toFixed(1)} ms`);
  } finally {
    clearInterval(sampler);
    good.close();
    await Promise.all(hogs.map((h) => h.close()));
  }
  // Once they are gone (their reads abandoned, file handles closed), memory comes back.
  const settled = await waitFor(
    async () => {
      const m = await daemonMemory(d.socket, true);
      return m.rss <= rssBefore * 1.2 ? m.rss : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 500, what: `daemon RSS back within 20% of ${mib(rssBefore)} MiB (now ${mib(rssOf(pid).rss)} MiB)` },
  );
  console.log(`RSS before ${mib(rssBefore)} MiB, after the hogs left ${mib(settled)} MiB`);
});

test('200 pipelined call_function results of 4 MiB, never read: RSS bounded by the 32 result slots, pings prompt', async () => {
  const pid = d.proc.pid!;
  const c = await d.client();
  fs.writeFileSync(path.join(d.modulesDir, 'big4.js'), "let n = 0;\nexport function big(bytes) { n++; return 'x'.repeat(bytes); }\nexport function calls() { return n; }\n");
  await c.loadModule('big4');
  await daemonMemory(d.socket, true);
  const rssBefore = rssOf(pid).rss;
  const good = await PingPipe.open(d.socket);
  const sock = net.createConnection(d.socket);
  await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
  sock.on('error', () => undefined);
  sock.pause();
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid).rss)), 20);
  try {
    sock.write(Array.from({ length: 200 }, (_, i) => JSON.stringify({ command: 'call_function', id: i, module_name: 'big4', function_name: 'big', args: [4 * MiB] }) + '\n').join(''));
    await waitFor(async () => ((await c.callFunction('big4', 'calls')) as number) >= 32, { timeoutMs: 60_000, what: '32 calls to run' });
    const lat = await probeLatency(good, 200);
    const p99 = percentile(lat, 99);
    peak = Math.max(peak, rssOf(pid).peak);
    const ran = (await c.callFunction('big4', 'calls')) as number;
    console.log(`200 pipelined 4 MiB call_function results, never read: ${ran} ran; daemon RSS ${mib(rssBefore)} -> peak ${mib(peak)} MiB; bystander ping p99 ${p99.toFixed(1)} ms`);
    assert.ok(ran <= 36, `${ran} calls ran`);
    // Bound: 32 held results (128 MiB here, plus the module worker's own garbage, same process) + one
    // encoded line + the 1 MiB budget; measured +227 MiB. All 200 held would be 800 MiB and more.
    assert.ok(peak - rssBefore < 450 * MiB, `daemon RSS grew ${mib(peak - rssBefore)} MiB`);
    assert.ok(p99 < 500, `bystander ping p99 ${p99.toFixed(0)} ms`);
    assert.deepEqual(good.bad, []);
  } finally {
    clearInterval(sampler);
    sock.destroy();
    good.close();
  }
});
