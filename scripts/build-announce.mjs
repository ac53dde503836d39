// Imported first by build.mjs, so it runs before esbuild even loads: says what the build is about to
// do (npm shows it: .npmrc sets foreground-scripts, or `npm ci` and the first `npx claude-daemon` of
// a checkout would sit silent for 5-30 s), and stamps dist/.build-stamp when the build exits well.
// With `--if-stale` (the `prepare` script) it ends the process at once when no input is newer than
// that stamp. src/cli/freshness.ts reads the same stamp to warn at `start`.
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const outFlag = process.argv.indexOf('--out');
const dist = outFlag >= 0 ? path.resolve(process.argv[outFlag + 1] ?? 'dist') : path.join(root, 'dist');
const stamp = path.join(dist, '.build-stamp');
const t0 = Date.now();

/** What the build reads; the same list as src/cli/freshness.ts. */
const INPUTS = ['src', 'native', 'scripts/build.mjs', 'scripts/build-announce.mjs', 'package.json', 'tsconfig.build.json'];

/** The newest input file and its mtime. */
function newestInput() {
  let newest = { file: '', mtimeMs: 0 };
  const visit = (p) => {
    let st;
    try {
      st = statSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) for (const name of readdirSync(p)) visit(path.join(p, name));
    else if (st.mtimeMs > newest.mtimeMs) newest = { file: path.relative(root, p), mtimeMs: st.mtimeMs };
  };
  for (const input of INPUTS) visit(path.join(root, input));
  return newest;
}

const say = (line) => process.stderr.write(`claude-daemon: ${line}\n`);
const what = '(esbuild, type declarations, the C process wrapper; 5-30 s)';
if (process.argv.includes('--if-stale') && existsSync(stamp) && existsSync(path.join(dist, 'bin.js'))) {
  const newest = newestInput();
  if (newest.mtimeMs <= statSync(stamp).mtimeMs) {
    say('dist/ is up to date with src/ (nothing to build)');
    process.exit(0);
  }
  say(`${newest.file} changed since dist/ was built: rebuilding dist/ ${what}...`);
} else {
  say(`building dist/ from src/ ${what}...`);
}

process.on('exit', (code) => {
  if (code !== 0 || !existsSync(path.join(dist, 'bin.js'))) return;
  // Dated when the build started: an input saved during the build stays newer than the stamp.
  writeFileSync(stamp, `${new Date(t0).toISOString()}\n`);
  utimesSync(stamp, new Date(t0), new Date(t0));
  say(`built dist/ in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});
