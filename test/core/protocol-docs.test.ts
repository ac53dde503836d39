/**
 * The error registry and docs/protocol.md's error table must list the same codes, both ways: a code
 * cannot ship undocumented, and the docs cannot promise a code that no longer exists.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ERROR_CODES } from '../../src/protocol/errors.js';
import { ROOT } from '../helpers/daemon.js';

const doc = fs.readFileSync(path.join(ROOT, 'docs', 'protocol.md'), 'utf8');

/** The codes in the first column of the table inside the errors section, in document order. */
function documentedCodes(): string[] {
  const m = /<!-- section:errors -->([\s\S]*?)<!-- \/section:errors -->/.exec(doc);
  assert.ok(m, 'docs/protocol.md has an errors section');
  const codes: string[] = [];
  for (const line of m[1]!.split('\n')) {
    const cell = /^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|/.exec(line);
    if (cell) codes.push(cell[1]!);
  }
  return codes;
}

test('every registered error code is documented in the error table', () => {
  const documented = new Set(documentedCodes());
  const missing = Object.keys(ERROR_CODES).filter((c) => !documented.has(c));
  assert.deepEqual(missing, [], `add rows for these codes to docs/protocol.md's error table: ${missing.join(', ')}`);
});

test('every documented error code exists in the registry', () => {
  const unknown = documentedCodes().filter((c) => !Object.hasOwn(ERROR_CODES, c));
  assert.deepEqual(unknown, [], `documented but not in src/protocol/errors.ts: ${unknown.join(', ')}`);
});

test('each code is documented once, with a meaning', () => {
  const codes = documentedCodes();
  assert.equal(new Set(codes).size, codes.length, 'a code appears twice in the table');
  for (const code of codes) {
    const row = new RegExp(`^\\|\\s*\`${code}\`\\s*\\|\\s*(.*?)\\s*\\|\\s*$`, 'm').exec(doc);
    assert.ok(row && row[1]!.length > 10, `${code} needs a meaning in its row`);
  }
});

test('the registry itself is well formed: SCREAMING_SNAKE codes with a description each', () => {
  for (const [code, meaning] of Object.entries(ERROR_CODES)) {
    assert.match(code, /^[A-Z][A-Z0-9_]*$/);
    assert.ok(meaning.length > 10, code);
  }
});
