/**
 * The scheduler's state across a daemon SIGKILL: group settings, a queued dependency chain, a
 * delayed record and a paused group come back as they were; the chain then completes in order and
 * no record runs twice. A broken groups.json is quarantined, not trusted.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { startTestDaemon } from '../helpers/daemon.js';
import { fx } from '../processes/util.js';

test('SIGKILL while a chain is queued: after restart the groups, holds and chain are intact and it completes in order, each run once', async () => {
  const d = await startTestDaemon({ args: ['--max-running', '4'] });
  try {
    let c = await d.client();
    await c.groupSet({ group: 'chain', parallel: 1 });
    await c.groupSet({ group: 'frozen', paused: true });
    const flag = path.join(d.dir, 'go');
    await c.spawnProcess({ cmd: [fx('wait-file.sh'), flag], process_id: 'k0', group: 'chain' });
    const ids = ['k0'];
    for (let i = 1; i <= 6; i++) {
      await c.spawnProcess({ cmd: [fx('print-exit.sh'), '0', `k${i}`], process_id: `k${i}`, group: 'chain', after: [`k${i - 1}`], priority: i });
      ids.push(`k${i}`);
    }
    await c.spawnProcess({ cmd: [fx('print-exit.sh'), '0', 'fz'], process_id: 'fz', group: 'frozen' });
    const delayed = await c.spawnProcess({ cmd: [fx('print-exit.sh'), '0', 'dl'], process_id: 'dl', start_after_s: 2 });
    await d.kill('SIGKILL');
    await d.restart();
    c = await d.client();
    const groups = (await c.groupList()).groups;
    assert.equal(groups.find((g) => g.group === 'chain')?.parallel, 1);
    assert.equal(groups.find((g) => g.group === 'frozen')?.paused, true);
    assert.equal((await c.processInfo('k0')).status, 'running');
    const k3 = await c.processInfo('k3');
    assert.equal(k3.status, 'queued');
    assert.equal(k3.held, 'waiting for k2');
    assert.equal((await c.processInfo('fz')).held, 'group frozen is paused');
    const dl = await c.processInfo('dl');
    assert.equal(dl.start_at, delayed.start_at);
    fs.writeFileSync(flag, '');
    const last = await c.waitProcess({ process_id: 'k6', timeout_s: 30 });
    assert.equal(last.status, 'exited');
    const recs = await Promise.all(ids.map((id) => c.processInfo(id)));
    for (let i = 1; i < recs.length; i++) {
      assert.equal(recs[i]!.status, 'exited');
      assert.ok(Date.parse(recs[i]!.started_at!) >= Date.parse(recs[i - 1]!.ended_at!), `${ids[i]} started before ${ids[i - 1]} ended`);
      // Ran once: its output holds one line.
      assert.equal((await c.readOutput({ process_id: ids[i]! })).data, `out:${ids[i]}\n`);
    }
    const dlEnd = await c.waitProcess({ process_id: 'dl', timeout_s: 20 });
    assert.ok(Date.parse(dlEnd.started_at!) >= Date.parse(delayed.start_at!));
    assert.equal((await c.processInfo('fz')).status, 'queued');
    // Kill again with the group resumed: the setting, written before the reply, survives.
    await c.groupSet({ group: 'frozen', paused: false });
    await c.waitProcess({ process_id: 'fz', timeout_s: 10 });
    await d.kill('SIGKILL');
    await d.restart();
    c = await d.client();
    assert.equal((await c.groupList()).groups.find((g) => g.group === 'frozen')?.paused, false);
  } finally {
    await d.stop({ killProcesses: true });
  }
});

test('a broken groups.json is quarantined and groups start with default settings', async () => {
  const d = await startTestDaemon();
  try {
    let c = await d.client();
    await c.groupSet({ group: 'g1', parallel: 2 });
    await d.stop();
    fs.writeFileSync(path.join(d.home, 'groups.json'), '{"version":1,"groups":{"g1":{"parallel":"many"}}}');
    await d.restart();
    c = await d.client();
    assert.equal((await c.groupList()).groups.find((g) => g.group === 'g1'), undefined);
    assert.match(d.log(), /groups\.json cannot be used/);
    assert.ok(fs.readdirSync(path.join(d.home, 'corrupt')).some((f) => f.startsWith('groups.json.')));
    // And the daemon writes a fresh one on the next change.
    await c.groupSet({ group: 'g1', parallel: 3 });
    assert.equal(JSON.parse(fs.readFileSync(path.join(d.home, 'groups.json'), 'utf8')).groups.g1.parallel, 3);
  } finally {
    await d.stop({ killProcesses: true });
  }
});
