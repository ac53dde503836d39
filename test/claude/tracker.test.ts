/**
 * The stream-json tracker against captured real outputs (test/fixtures/claude, from the real CLI
 * 2.1.197), fed whole, byte by byte and split at random points, plus hostile input.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { StreamTracker } from '../../src/daemon/claude/tracker.js';
import { isClaudeStreamCommand } from '../../src/daemon/claude/detect.js';
import { FIXTURES } from '../helpers/daemon.js';

const fixture = (name: string): Buffer => fs.readFileSync(path.join(FIXTURES, 'claude', name));

function track(data: Buffer, cuts: number[] = []): StreamTracker {
  const t = new StreamTracker();
  let prev = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    t.push(Buffer.from(data.subarray(prev, c)));
    prev = c;
  }
  t.push(data.subarray(prev));
  t.finish();
  return t;
}

test('a plain run: session, model, text, result, cost, usage', () => {
  const info = track(fixture('example-stream-json.txt')).info;
  assert.equal(info.session_id, '9b7641a5-8b4d-4fc4-ae84-df7a0ae06b71');
  assert.equal(info.model, 'claude-opus-4-8[1m]');
  assert.equal(info.state, 'done');
  assert.equal(info.num_turns, 1);
  assert.equal(info.last_text, 'MOCK REPLY: hello world');
  assert.equal(info.result, 'MOCK REPLY: hello world');
  assert.equal(info.is_error, false);
  assert.equal(info.subtype, 'success');
  assert.equal(info.api_error_status, null);
  assert.equal(info.total_cost_usd, 0.095235);
  assert.equal(info.duration_ms, 116);
  assert.equal((info.usage as { output_tokens: number }).output_tokens, 12);
  assert.equal(info.events, 3);
  assert.equal(info.malformed_lines, 0);
});

test('an API 500: is_error with the status, although the subtype says success', () => {
  const info = track(fixture('example-stream-json-error500.txt')).info;
  assert.equal(info.is_error, true);
  assert.equal(info.subtype, 'success');
  assert.equal(info.api_error_status, 500);
  assert.equal(info.total_cost_usd, 0);
  assert.match(info.last_text ?? '', /API Error: 500/);
  assert.match(info.error ?? '', /^API Error: 500 mock: internal server error/, 'the reason is the message claude printed');
  assert.equal(info.error_type, 'server_error', 'the kind claude tagged it with');
});

test('the reason of a failure: an error_* result\'s errors, an internal diagnostic is no reason, a later real reply clears an API error; api_retry lines show until a reply', () => {
  const feed = (...lines: object[]): StreamTracker => track(Buffer.from(lines.map((l) => JSON.stringify(l) + '\n').join('')));
  const budget = feed({ type: 'result', subtype: 'error_max_budget_usd', is_error: true, errors: ['Reached maximum budget ($0.01)'] }).info;
  assert.deepEqual([budget.error, budget.error_type], ['Reached maximum budget ($0.01)', 'error_max_budget_usd']);
  const bare = feed({ type: 'result', subtype: 'error_max_turns', is_error: true }).info;
  assert.deepEqual([bare.error, bare.error_type], ['reached the turn limit (max_turns)', 'error_max_turns']);
  const diag = feed({ type: 'result', subtype: 'error_during_execution', is_error: true, errors: ['[ede_diagnostic] result_type=user'] }).info;
  assert.deepEqual([diag.error, diag.error_type], [null, 'error_during_execution'], 'left to the daemon, which knows who stopped it');
  const apiErr = { type: 'assistant', error: 'rate_limit', message: { id: 'a', model: '<synthetic>', content: [{ type: 'text', text: 'API Error: 429' }] } };
  const recovered = feed(apiErr, { type: 'assistant', message: { id: 'b', content: [{ type: 'text', text: 'fine now' }] } }, { type: 'result', subtype: 'success', is_error: true, result: 'odd' }).info;
  assert.deepEqual([recovered.error, recovered.error_type], ['odd', null]);
  const cut = feed(apiErr).info;
  assert.deepEqual([cut.is_error, cut.error, cut.error_type], [true, 'API Error: 429', 'rate_limit'], 'no result line after an API error: that error is the reason');
  const retry = { type: 'system', subtype: 'api_retry', attempt: 2, max_retries: 10, retry_delay_ms: 1127.03, error_status: 529, error: 'overloaded' };
  assert.deepEqual(feed(retry).info.api_retry, { attempt: 2, max_retries: 10, error_status: 529, error: 'overloaded', retry_delay_ms: 1127 });
  assert.equal(feed(retry, { type: 'assistant', message: { id: 'c', content: [] } }).info.api_retry, null, 'a reply ends the retrying');
  assert.equal(feed(retry, { type: 'result', subtype: 'success', is_error: true, result: 'x' }).info.api_retry, null);
  const ok = feed({ type: 'result', subtype: 'success', is_error: false, result: 'hi' }).info;
  assert.deepEqual([ok.error, ok.error_type], [null, null]);
});

test('a tool round trip counts two turns; the tool result line is skipped undecoded', () => {
  const info = track(fixture('example-stream-json-tool.txt')).info;
  assert.equal(info.num_turns, 2);
  assert.equal(info.result, 'MOCK REPLY: tool said hi-from-bash');
  assert.equal(info.events, 5);
});

test('partial messages (stream_event lines) do not disturb the result', () => {
  const info = track(fixture('example-stream-json-partial.txt')).info;
  assert.equal(info.result, 'MOCK REPLY: hello partial');
  assert.equal(info.num_turns, 1);
  assert.equal(info.events, 11);
});

test('SIGINT: error_during_execution, no result text, is_error', () => {
  const info = track(fixture('example-stream-json-sigint.txt')).info;
  assert.equal(info.subtype, 'error_during_execution');
  assert.equal(info.is_error, true);
  assert.equal(info.result, null);
  assert.equal(info.last_text, 'MOCK REPLY: SLOW i');
});

test('any split of any fixture gives the same object as feeding it whole', () => {
  const names = ['example-stream-json.txt', 'example-stream-json-error500.txt', 'example-stream-json-tool.txt', 'example-stream-json-partial.txt', 'example-stream-json-sigint.txt'];
  const data = names.map(fixture);
  const whole = data.map((d) => track(d).info);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: names.length - 1 }), fc.array(fc.nat(), { maxLength: 40 }), (i, raw) => {
      const d = data[i]!;
      const cuts = raw.map((c) => c % (d.length + 1));
      const got = track(d, cuts).info;
      assert.deepEqual(got, whole[i]);
    }),
    { numRuns: 300 },
  );
  // And the worst case: one byte at a time.
  const d = data[2]!;
  assert.deepEqual(track(d, Array.from({ length: d.length }, (_, k) => k)).info, whole[2]);
});

test('state moves starting -> working -> done as lines arrive', () => {
  const d = fixture('example-stream-json.txt');
  const t = new StreamTracker();
  assert.equal(t.info.state, 'starting');
  const firstNl = d.indexOf(10);
  t.push(d.subarray(0, firstNl));
  assert.equal(t.info.state, 'starting', 'an unfinished line is not an event yet');
  t.push(d.subarray(firstNl, firstNl + 1));
  assert.equal(t.info.state, 'working');
  assert.equal(t.info.session_id, '9b7641a5-8b4d-4fc4-ae84-df7a0ae06b71');
  assert.equal(t.info.is_error, null);
  t.push(d.subarray(firstNl + 1));
  assert.equal(t.info.state, 'done');
  assert.equal(t.hasResult, true);
});

test('garbage, arrays, truncated and blank lines are counted and skipped; a final line without newline counts', () => {
  const t = new StreamTracker();
  t.push(Buffer.from('not json\n[1,2]\n"str"\n{"type":"assistant","message":{"id":"a","content":[{"type":"text","text":"cut\n\n  \r\n'));
  t.push(Buffer.from('\xff\xfe garbage bytes\n'));
  t.push(Buffer.from('{"type":"assistant","message":{"id":"b","content":[{"type":"text","text":"fine"}]},"session_id":"s1"}\n'));
  t.push(Buffer.from('{"type":"result","subtype":"success","is_error":false,"result":"ok","num_turns":1}'));
  assert.equal(t.info.state, 'working');
  t.finish();
  assert.equal(t.info.malformed_lines, 5);
  assert.equal(t.info.last_text, 'fine');
  assert.equal(t.info.session_id, 's1');
  assert.equal(t.info.result, 'ok');
  assert.equal(t.info.is_error, false);
  assert.equal(t.info.state, 'done');
});

test('a run that ends without a result line is an error; a stall mark survives the result', () => {
  const t = new StreamTracker();
  t.push(fixture('example-stream-json.txt').subarray(0, 100));
  t.finish();
  assert.equal(t.info.is_error, true);
  assert.equal(t.info.state, 'done');

  const s = new StreamTracker();
  s.push(fixture('example-stream-json-sigint.txt').subarray(0, 50));
  s.markStalled();
  s.push(fixture('example-stream-json-sigint.txt').subarray(50));
  s.finish();
  assert.equal(s.info.state, 'stalled');
  assert.equal(s.info.subtype, 'error_during_execution');
});

test('huge tool-result lines are skipped without being kept; oversized interesting lines are dropped', () => {
  const t = new StreamTracker({ maxLineBytes: 1024 });
  t.push(Buffer.from('{"type":"user","message":{"content":"'));
  for (let i = 0; i < 100; i++) t.push(Buffer.alloc(10_000, 0x61));
  t.push(Buffer.from('"}}\n{"type":"assistant","message":{"id":"x","content":[{"type":"text","text":"' + 'b'.repeat(2000) + '"}]}}\n'));
  t.push(Buffer.from('{"type":"result","subtype":"success","is_error":false,"result":"' + 'r'.repeat(5000) + '"}\n'));
  t.finish();
  assert.equal(t.info.events, 3);
  assert.equal(t.info.malformed_lines, 2, 'the 2 KB assistant and 5 KB result lines exceed 1 KiB');
  assert.equal(t.info.is_error, true, 'the result line was lost, so the verdict is a failure');

  const r = new StreamTracker({ resultLimit: 10, lastTextLimit: 5 });
  r.push(Buffer.from('{"type":"assistant","message":{"id":"x","content":[{"type":"text","text":"abcdefgh"}]}}\n'));
  r.push(Buffer.from('{"type":"result","subtype":"success","is_error":false,"result":"0123456789abc"}\n'));
  assert.equal(r.info.last_text, 'abcde…');
  assert.equal(r.info.result, '0123456789…');
  assert.equal(r.info.result_truncated, true);
});

test('the fake claude stand-in: malformed lines and a split line', () => {
  const out = execFileSync(path.join(FIXTURES, 'fake-claude', 'claude'), ['-p', '--output-format', 'stream-json', '--verbose', '--', 'FAKE_MALFORMED']);
  const info = track(out).info;
  assert.equal(info.malformed_lines, 3);
  assert.equal(info.last_text, 'split line ok');
  assert.equal(info.result, 'FAKE REPLY: survived malformed lines');
  assert.equal(info.is_error, false);
});

test('detection of claude print-mode stream-json command lines', () => {
  const yes = [
    ['claude', '-p', 'hi', '--output-format', 'stream-json', '--verbose'],
    ['/usr/local/bin/claude', '--print', '--output-format=stream-json', '--verbose', 'hi'],
    ['/x/node_modules/@anthropic-ai/claude-code/bin/claude.exe', '-p', '--output-format', 'stream-json', '--', 'hi'],
  ];
  const no = [
    ['claude', 'hi', '--output-format', 'stream-json'],
    ['claude', '-p', 'hi', '--output-format', 'json'],
    ['claude', '--output-format', 'stream-json', '--', '-p'],
    ['notclaude', '-p', '--output-format', 'stream-json'],
    ['sh', '-c', 'claude -p --output-format stream-json'],
    [],
  ];
  for (const c of yes) assert.equal(isClaudeStreamCommand(c), true, c.join(' '));
  for (const c of no) assert.equal(isClaudeStreamCommand(c), false, c.join(' '));
  assert.equal(isClaudeStreamCommand(['/opt/cc/cc-2', '-p', '--output-format', 'stream-json'], '/opt/cc/cc-2'), true);
});

test('a live session (stream-json input, real CLI 2.1.197: turn, interrupted turn, turn): one turn end per result line, idle between, costs per turn, however split', () => {
  const data = fixture('live-session-3-turns-interrupt.txt');
  for (const cuts of [[], Array.from({ length: data.length - 1 }, (_, i) => i + 1), [17, 900, 2500, 4000]]) {
    const ends: Array<{ index: number; is_error: boolean; subtype: string | null; cost: number | null; result: string | null }> = [];
    const states: string[] = [];
    const t = new StreamTracker({ onTurnEnded: (e) => { ends.push({ index: e.index, is_error: e.is_error, subtype: e.subtype, cost: e.cost_usd, result: e.result }); states.push(t.info.state); } });
    let prev = 0;
    for (const c of cuts) {
      t.push(Buffer.from(data.subarray(prev, c)));
      prev = c;
    }
    t.push(data.subarray(prev));
    assert.equal(t.info.state, 'idle');
    assert.deepEqual(ends.map((e) => [e.index, e.is_error, e.subtype]), [[1, false, 'success'], [2, true, 'error_during_execution'], [3, false, 'success']]);
    assert.equal(ends[0]!.result, 'MOCK REPLY: first turn');
    // claude reports session totals (0.0008, 0.0008, 0.0016): each turn gets the difference.
    assert.deepEqual(ends.map((e) => Math.round((e.cost ?? -1) * 1e6)), [800, 0, 800]);
    assert.deepEqual(states, ['idle', 'idle', 'idle']);
    t.finish();
    assert.equal(t.info.state, 'done');
  }
});
