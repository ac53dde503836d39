/** LineSplitter on its own: the framing every byte from a client goes through before anything else. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_MAX_LINE_BYTES, LineSplitter, type FrameEvent } from '../../src/protocol/framing.js';

const enc = new TextEncoder();
const lines = (evs: FrameEvent[]): string[] => evs.map((e) => (e.kind === 'line' ? e.text : '<too_large>'));

test('a line split across many one-byte chunks comes out whole, once', () => {
  const s = new LineSplitter();
  const bytes = enc.encode('{"command":"ping","id":42}\n');
  const out: FrameEvent[] = [];
  for (const b of bytes) out.push(...s.push(Uint8Array.of(b)));
  assert.deepEqual(lines(out), ['{"command":"ping","id":42}']);
  assert.equal(s.bufferedBytes, 0);
});

test('many lines in one chunk come out in order, and a trailing partial line waits for its end', () => {
  const s = new LineSplitter();
  const chunk = Array.from({ length: 500 }, (_, i) => `{"n":${i}}\n`).join('') + '{"n":"par';
  const out = lines(s.push(enc.encode(chunk)));
  assert.equal(out.length, 500);
  assert.deepEqual(out.slice(0, 3), ['{"n":0}', '{"n":1}', '{"n":2}']);
  assert.equal(out[499], '{"n":499}');
  assert.equal(s.bufferedBytes, enc.encode('{"n":"par').length);
  assert.deepEqual(lines(s.push(enc.encode('tial"}\n'))), ['{"n":"partial"}']);
  assert.equal(s.bufferedBytes, 0);
});

test('multi-byte UTF-8 characters split at every possible byte boundary decode intact', () => {
  const text = '{"s":"héllo wörld ✓ 日本語 🎉 𝄞"}';
  const bytes = enc.encode(text + '\n');
  for (let cut1 = 1; cut1 < bytes.length - 1; cut1++) {
    const cut2 = Math.min(bytes.length - 1, cut1 + 3);
    const s = new LineSplitter();
    const out = [...s.push(bytes.subarray(0, cut1)), ...s.push(bytes.subarray(cut1, cut2)), ...s.push(bytes.subarray(cut2))];
    assert.deepEqual(lines(out), [text], `cut at ${cut1}/${cut2}`);
  }
});

test('CRLF line endings are accepted (the CR is dropped), and empty lines come out empty', () => {
  const s = new LineSplitter();
  assert.deepEqual(lines(s.push(enc.encode('{"a":1}\r\n\n{"b":2}\r'))), ['{"a":1}', '']);
  assert.deepEqual(lines(s.push(enc.encode('\n'))), ['{"b":2}']);
});

test('the splitter copies what it keeps: a caller reusing its buffer does not corrupt a pending line', () => {
  const s = new LineSplitter();
  const buf = enc.encode('{"a":');
  s.push(buf);
  buf.fill(0x78);
  assert.deepEqual(lines(s.push(enc.encode('1}\n'))), ['{"a":1}']);
});

test('a line of exactly the cap passes; one byte more is too_large', () => {
  const ok = new LineSplitter(10);
  assert.deepEqual(lines(ok.push(enc.encode('0123456789\n'))), ['0123456789']);
  const big = new LineSplitter(10);
  assert.deepEqual(lines(big.push(enc.encode('01234567890\n'))), ['<too_large>']);
});

test('the cap counts bytes across chunks, and buffered bytes never exceed it', () => {
  const cap = 1000;
  const s = new LineSplitter(cap);
  const chunk = enc.encode('x'.repeat(97));
  let events: FrameEvent[] = [];
  let max = 0;
  for (let i = 0; i < 50 && events.length === 0; i++) {
    events = s.push(chunk);
    max = Math.max(max, s.bufferedBytes);
  }
  assert.deepEqual(lines(events), ['<too_large>']);
  assert.ok(max <= cap, `buffered ${max} > cap ${cap}`);
  assert.equal(s.bufferedBytes, 0, 'the overflowing line is dropped, not kept');
});

test('complete lines before an overflow in the same chunk are delivered; nothing after it ever is', () => {
  const s = new LineSplitter(8);
  assert.deepEqual(lines(s.push(enc.encode('{"a":1}\n' + 'y'.repeat(20) + '\n{"b":2}\n'))), ['{"a":1}', '<too_large>']);
  assert.deepEqual(s.push(enc.encode('{"c":3}\n')), []);
  assert.equal(s.bufferedBytes, 0);
});

test('a huge single chunk without a newline is refused without being kept', () => {
  const s = new LineSplitter(1024);
  const evs = s.push(new Uint8Array(5 * 1024 * 1024).fill(0x61));
  assert.deepEqual(lines(evs), ['<too_large>']);
  assert.equal(s.bufferedBytes, 0);
});

test('the default cap is 1 MiB', () => {
  assert.equal(DEFAULT_MAX_LINE_BYTES, 1024 * 1024);
});
