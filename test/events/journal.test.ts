/**
 * The journal across daemon deaths: a watcher that reconnects with since_seq after a SIGKILL and a
 * restart misses nothing and sees seqs keep increasing; a since_seq older than the journal gets a
 * replay_gap first; a torn last line is cut off and a corrupt segment quarantined, never fatal.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { EventLine } from '../../src/index.js';
import { startTestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';
import { fx, waitOutput } from '../processes/util.js';
import { collect, endedAll, shape } from './util.js';

const segments = (home: string): string[] => fs.readdirSync(path.join(home, 'events')).filter((n) => n.endsWith('.jsonl')).sort();

test('a watcher reconnecting with since_seq after a daemon SIGKILL and restart misses nothing; seqs keep increasing', async () => {
  const d = await startTestDaemon();
  try {
    let c = await d.client();
    let s = c.watch({});
    await s.ready;
    const go = path.join(d.dir, 'go');
    await c.spawnProcess({ cmd: [fx('wait-file.sh'), go, '4'], process_id: 'survivor' });
    await c.spawnProcess({ cmd: ['true'], process_id: 'quick' });
    await waitOutput(c, 'survivor');
    const before = await collect(s, (all) => all.some((e) => e.type === 'started' && e.process_id === 'survivor') && endedAll(all, ['quick']));
    const lastSeen = before.at(-1)!.seq!;
    await d.kill('SIGKILL');
    // Ends while no daemon runs: the next one must tell of it.
    fs.writeFileSync(go, '');
    await waitFor(() => fs.existsSync(path.join(d.home, 'processes', 'survivor', 'exit')), { what: 'the survivor to end' });
    await d.restart();
    c = await d.client();
    await c.spawnProcess({ cmd: ['true'], process_id: 'after' });
    s = c.watch({ since_seq: lastSeen });
    const got = await collect(s, (all) => endedAll(all, ['survivor', 'after']));
    const journaled = got.filter((e) => e.seq !== null);
    assert.ok(journaled.every((e, i) => e.seq === lastSeen + 1 + i), `no gap and no repeat after ${lastSeen}: ${journaled.map((e) => e.seq).join(',')}`);
    const survivorEnd = got.find((e) => e.type === 'ended' && e.process_id === 'survivor')!;
    assert.equal(survivorEnd.data['exit_code'], 4);
    assert.deepEqual(shape(got).filter((x) => x.endsWith(':after')), ['spawned:after', 'started:after', 'ended:after']);
    assert.ok(!got.some((e) => e.type === 'ended' && e.process_id === 'quick'), 'an end journaled before the crash is not told twice');
    // A full replay has each process's end exactly once.
    const all = await collect(c.watch({ since_seq: 0 }), (x) => x.some((e) => e.type === 'caught_up'));
    for (const id of ['survivor', 'quick', 'after']) assert.equal(all.filter((e) => e.type === 'ended' && e.process_id === id).length, 1, id);
  } finally {
    await d.stop({ killProcesses: true });
  }
});

test('a since_seq older than the journal gets a replay_gap first, then the oldest events it holds', async () => {
  // 8 segments of 5 events: the journal keeps 36-40 events.
  const d = await startTestDaemon({ env: { CLAUDE_DAEMON_JOURNAL_SEGMENT_EVENTS: '5' } });
  try {
    const c = await d.client();
    for (let i = 0; i < 20; i++) await c.spawnProcess({ cmd: ['true'], process_id: `g-${i}` });
    await waitFor(async () => (await c.listProcesses({ status: 'exited' })).processes.length === 20, { what: '20 ends' });
    const live = c.watch({});
    const head = await live.ready;
    await live.return();
    assert.equal(head.last_seq, 60);
    assert.ok(head.oldest_seq > 1 && head.oldest_seq <= 60 - 35, `oldest ${head.oldest_seq}`);
    assert.ok(segments(d.home).length <= 8, segments(d.home).join(' '));
    const s = c.watch({ since_seq: 3 });
    const got = await collect(s, (all) => all.some((e) => e.type === 'caught_up'));
    const gap = got[0]!;
    assert.equal(gap.type, 'replay_gap');
    assert.equal(gap.seq, null);
    assert.equal(gap.data['from'], 4);
    assert.equal(gap.data['to'], head.oldest_seq - 1);
    assert.equal(got[1]!.seq, head.oldest_seq);
    const seqs = got.filter((e) => e.seq !== null).map((e) => e.seq!);
    assert.deepEqual(seqs, Array.from({ length: 60 - head.oldest_seq + 1 }, (_, i) => head.oldest_seq + i));
    // A since_seq beyond the journal (it was reset): a replay_gap saying so, then live events.
    const ahead = c.watch({ since_seq: 1000 });
    const notice = await collect(ahead, (all) => all.length >= 1);
    assert.equal(notice[0]!.type, 'replay_gap');
    assert.match(String(notice[0]!.data['reason']), /newer than the journal/);
    await ahead.return();
  } finally {
    await d.stop();
  }
});

test('a torn last line is dropped and a corrupt segment quarantined; the daemon starts and seqs never repeat', async () => {
  const d = await startTestDaemon({ env: { CLAUDE_DAEMON_JOURNAL_SEGMENT_EVENTS: '6' } });
  try {
    let c = await d.client();
    for (let i = 0; i < 4; i++) await c.spawnProcess({ cmd: ['true'], process_id: `t-${i}` });
    await waitFor(async () => (await c.listProcesses({ status: 'exited' })).processes.length === 4);
    await waitFor(async () => (await c.watch({}).ready).last_seq === 12, { what: '12 journaled events' });
    await d.kill('SIGKILL');
    const names = segments(d.home);
    assert.equal(names.length, 2);
    const dir = path.join(d.home, 'events');
    // A torn write at the end of the last segment, and garbage in the middle of the first one.
    fs.appendFileSync(path.join(dir, names[1]!), '{"event":true,"seq":13,"time":"2026-');
    const first = fs.readFileSync(path.join(dir, names[0]!), 'utf8').split('\n');
    first[2] = 'not an event';
    fs.writeFileSync(path.join(dir, names[0]!), first.join('\n'));
    await d.restart();
    c = await d.client();
    assert.ok(fs.readdirSync(path.join(d.home, 'corrupt')).some((n) => n.startsWith(names[0]!)), 'the corrupt segment is quarantined');
    assert.match(d.log(), /unusable/);
    await c.spawnProcess({ cmd: ['true'], process_id: 't-new' });
    const s = c.watch({ since_seq: 0 });
    const got: EventLine[] = await collect(s, (all) => endedAll(all, ['t-new']));
    assert.equal(got[0]!.type, 'replay_gap');
    assert.deepEqual({ from: got[0]!.data['from'], to: got[0]!.data['to'] }, { from: 1, to: 6 });
    const seqs = got.filter((e) => e.seq !== null).map((e) => e.seq!);
    assert.deepEqual(seqs.slice(0, 6), [7, 8, 9, 10, 11, 12], 'the good segment replays whole, the torn line is gone');
    assert.deepEqual(seqs.slice(6), [13, 14, 15], 'new events continue after the highest seq');
    assert.ok(fs.readFileSync(path.join(dir, names[1]!), 'utf8').endsWith('\n'), 'the torn line was cut off');
  } finally {
    await d.stop();
  }
});

test('a journal segment planted as a symlink is never followed: quarantined, and the daemon starts', async () => {
  const d = await startTestDaemon();
  try {
    const c = await d.client();
    await c.spawnProcess({ cmd: ['true'], process_id: 'sym-1' });
    await waitFor(async () => (await c.ping()).events!.last_seq === 3, { what: '3 journaled events' });
    await d.kill('SIGKILL');
    const dir = path.join(d.home, 'events');
    const [name] = segments(d.home);
    const victim = path.join(d.dir, 'victim.txt');
    fs.writeFileSync(victim, 'not yours\n');
    fs.rmSync(path.join(dir, name!));
    fs.symlinkSync(victim, path.join(dir, name!));
    await d.restart();
    const c2 = await d.client();
    await c2.spawnProcess({ cmd: ['true'], process_id: 'sym-2' });
    await waitFor(async () => (await c2.processInfo('sym-2')).status === 'exited');
    assert.equal(fs.readFileSync(victim, 'utf8'), 'not yours\n', 'the symlink target is untouched');
    assert.ok(fs.readdirSync(path.join(d.home, 'corrupt')).some((n) => n.startsWith(name!)));
    assert.match(d.log(), /symbolic link/);
    assert.ok((await c2.ping()).events!.last_seq > 3, 'seqs continue past the quarantined segment');
  } finally {
    await d.stop();
  }
});
