import './build-announce.mjs'; // first: says what is built, skips an up-to-date one (--if-stale), stamps dist/
// Builds dist/ from src/: esbuild bundles the runtime (one file per entry, shared chunks split out so the
// CLI loads only what a verb needs), tsc emits the library's .d.ts, and the native wrapper is compiled.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const dist = path.join(root, 'dist');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const entryPoints = ['src/bin.ts', 'src/index.ts']
  .concat(['src/daemon/modules/worker-entry.ts'].filter((f) => existsSync(path.join(root, f))))
  .map((f) => path.join(root, f));

// zod re-exports all of its ~40 message locales (366 KB, a third of the daemon's code) although it
// only ever uses English; the daemon's resident memory is a spawn-rate cost (every fork copies its
// page tables), so the locale index is replaced by one that exports only `en`.
const englishOnlyZod = {
  name: 'english-only-zod',
  setup(b) {
    b.onResolve({ filter: /locales\/index\.js$/ }, (args) =>
      args.importer.includes(`${path.sep}node_modules${path.sep}zod${path.sep}`)
        ? { path: path.resolve(path.dirname(args.importer), '..', 'locales', 'en.js'), namespace: 'zod-en' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-en' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      resolveDir: path.dirname(args.path),
    }));
  },
};

await build({
  entryPoints,
  outdir: dist,
  outbase: path.join(root, 'src'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // zod is bundled into the daemon's chunks: loaded from node_modules it is ~120 ES modules, which
  // doubled the daemon's start-up. Everything else stays external. (The CLI's static graph never
  // reaches zod either way; test/core/architecture.test.ts checks it.)
  external: Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter((name) => name !== 'zod'),
  plugins: [englishOnlyZod],
  sourcemap: 'linked',
  // Whitespace and syntax only, names kept (stack traces in daemon.log stay readable): the source
  // text V8 keeps for the daemon's chunk halves, ~1.2 MiB less resident memory.
  minifyWhitespace: true,
  minifySyntax: true,
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
});
chmodSync(path.join(dist, 'bin.js'), 0o755);

const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
if (existsSync(tsc)) execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });

const wrapperSrc = path.join(root, 'native', 'wrap.c');
if (existsSync(wrapperSrc)) {
  try {
    execFileSync(process.env['CC'] || 'cc', ['-O2', '-Wall', '-o', path.join(dist, 'claude-daemon-wrap'), wrapperSrc, path.join(root, 'native', 'serve.c')], { stdio: 'inherit' });
  } catch (err) {
    // Without the wrapper the daemon still starts (ping, modules), and spawns fail with a message
    // saying how to fix it; failing `npm ci` here would leave nothing usable at all.
    process.stderr.write(`\nclaude-daemon: could not compile native/wrap.c (${err.message.split('\n')[0]}).\n` +
      'Processes cannot be spawned until it is built: install a C compiler (Debian: apt-get install gcc libc6-dev), then run `npm run build`.\n\n');
  }
}
