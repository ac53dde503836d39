// Runs the suite with node's own test runner. The stress tests (long, heavy) run only with --stress.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const stress = process.argv.includes('--stress');
const extra = process.argv.slice(2).filter((a) => a !== '--stress');
/** @param {string} dir */
function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'fixtures' ? [] : find(p);
    return e.name.endsWith('.test.ts') ? [p] : [];
  });
}

/**
 * The load test holds 1,000 connections (2,000 descriptors across the test and its daemon). Node
 * cannot raise its own limit, so when the soft `ulimit -n` is below what is needed the runner is
 * started through `sh -c 'ulimit -Sn N'` (up to the hard limit; beyond that the test says so).
 */
const NEEDED_FILES = 4096;
function fileLimits() {
  try {
    const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    const n = (/** @type {string | undefined} */ s) => (s === 'unlimited' ? Infinity : Number(s));
    return { soft: n(m?.[1]), hard: n(m?.[2]) };
  } catch {
    return { soft: Infinity, hard: Infinity }; // Not Linux: leave the limit alone.
  }
}

const files = extra.length > 0 ? extra : find(stress ? 'test/stress' : 'test').filter((f) => stress || !f.startsWith(path.join('test', 'stress')));
const args = ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...files];
const { soft, hard } = fileLimits();
const r =
  soft < NEEDED_FILES
    ? spawnSync('sh', ['-c', `ulimit -Sn ${Math.min(hard, NEEDED_FILES)} && exec "$0" "$@"`, process.execPath, ...args], { stdio: 'inherit' })
    : spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(r.status ?? 1);
