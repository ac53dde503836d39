// Runs the suite with node's own test runner. The stress tests (long, heavy) run only with --stress.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

/**
 * Every process the suite starts (test files, daemons, their children, wrappers, module hosts)
 * inherits this variable with a value unique to the run; after the runner ends, any process still
 * carrying it is a leftover: the run fails, listing them (and they are killed).
 */
const MARKER = 'CLAUDE_DAEMON_TEST_RUN';
const runId = randomUUID();
process.env[MARKER] = runId;

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
const leftovers = await findLeftovers();
if (leftovers.length > 0) {
  process.stderr.write(`\nnpm test left ${leftovers.length} process(es) behind (they carry ${MARKER}=${runId}); killed now:\n`);
  for (const p of leftovers) {
    process.stderr.write(`  pid ${p.pid}: ${p.cmd}\n`);
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}
process.exit(leftovers.length > 0 ? 1 : (r.status ?? 1));

/** Processes (other than this one) carrying the run's marker, once exiting ones had 3 s to go. */
async function findLeftovers() {
  const needle = `${MARKER}=${runId}`;
  const scan = () => {
    const out = [];
    let pids;
    try {
      pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
    } catch {
      return out; // Not Linux: no check.
    }
    for (const n of pids) {
      const pid = Number(n);
      if (pid === process.pid) continue;
      try {
        if (!readFileSync(`/proc/${n}/environ`, 'latin1').split('\0').includes(needle)) continue;
        const stat = readFileSync(`/proc/${n}/stat`, 'latin1');
        if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') continue; // Exited; its parent reaps it.
        out.push({ pid, cmd: readFileSync(`/proc/${n}/cmdline`, 'latin1').split('\0').join(' ').trim().slice(0, 200) });
      } catch {
        // Gone meanwhile, or not ours to read.
      }
    }
    return out;
  };
  const deadline = Date.now() + 3000;
  let left = scan();
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    left = scan();
  }
  return left;
}
