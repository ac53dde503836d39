// Runs the suite with node's own test runner. The stress tests (long, heavy) run only with --stress.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
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
const files = extra.length > 0 ? extra : find(stress ? 'test/stress' : 'test').filter((f) => stress || !f.startsWith(path.join('test', 'stress')));
const args = ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...files];
const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(r.status ?? 1);
