/**
 * Bounded memory, the heavy case from issue 10: 3 clients each pipeline 200 `read_output` of a
 * 16 MiB file (base64, max_bytes 16 MiB) and never read. Before the reply budget covered big
 * replies this drove the daemon to 4.3 GB RSS and another client's ping to 12 s. Now: RSS stays
 * under 250 MiB, a bystander's ping p99 under 100 ms, and RSS is back within 20% once they leave.
 */
import assert from 'node:assert/strict';
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
