// Runs every top-level test of the suite on its own (`--test-name-pattern '^name$'`), one at a time,
// to prove no test depends on what an earlier one left behind. Slow (one process per test): not part
// of `npm test`; run it after adding tests. Usage: node scripts/each-alone.mjs [test files...]
// (default: every file outside test/stress). Assumes a fresh build (`node scripts/build.mjs`).
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** @param {string} dir @returns {string[]} */
function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'fixtures' || e.name === 'stress' ? [] : find(p);
    return e.name.endsWith('.test.ts') ? [p] : [];
  });
}

const escape = (/** @type {string} */ s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Top-level test names of a file, as patterns: exact for literals, a prefix for template names. */
function namesOf(/** @type {string} */ file) {
  const src = readFileSync(file, 'utf8');
  const out = [];
  for (const m of src.matchAll(/^(?:for \(.*\) )?\s*test\((['"`])((?:\\.|(?!\1).)*)\1/gm)) {
    const raw = m[2].replace(/\\(['"`\\])/g, '$1');
    const dollar = m[1] === '`' ? raw.indexOf('${') : -1;
    out.push({ name: raw, pattern: dollar === -1 ? `^${escape(raw)}$` : `^${escape(raw.slice(0, dollar))}` });
  }
  return out;
}

const files = process.argv.length > 2 ? process.argv.slice(2) : find('test');
const failed = [];
let ran = 0;
for (const file of files) {
  for (const { name, pattern } of namesOf(file)) {
    ran++;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=300000', '--test-name-pattern', pattern, file], { encoding: 'utf8' });
    const out = r.stdout + r.stderr;
    const pass = Number(/^# pass (\d+)/m.exec(out)?.[1] ?? 0);
    const ok = r.status === 0 && pass > 0;
    process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${file} :: ${name}\n`);
    if (!ok) failed.push({ file, name, out: out.split('\n').filter((l) => /not ok|error:|Error/.test(l)).slice(0, 8).join('\n') });
  }
}
for (const f of failed) process.stdout.write(`\n--- ${f.file} :: ${f.name}\n${f.out}\n`);
process.stdout.write(`\n${ran - failed.length}/${ran} tests pass alone\n`);
process.exit(failed.length > 0 ? 1 : 0);
