import './build-announce.mjs'; // first: says what is built, skips an up-to-date one (--if-stale), stamps dist/
// Builds dist/ from src/: esbuild bundles the runtime (one file per entry, shared chunks split out so the
// CLI loads only what a verb needs), tsc emits the library's .d.ts, and the native wrapper is compiled.
//
// Atomically: everything is built into a fresh directory beside dist/ which then replaces dist/ by
// two renames (old aside, new in), so a running daemon, its keeper and a CLI never see a half-built
// or missing dist/ (except for the microseconds between the renames); the old tree is deleted after.
// `--out DIR` builds into DIR instead of dist/ (the rebuild test uses a copy of the package).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const outFlag = process.argv.indexOf('--out');
const target = outFlag >= 0 ? path.resolve(process.argv[outFlag + 1] ?? 'dist') : path.join(root, 'dist');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const stage = mkdtempSync(path.join(path.dirname(target), '.dist-build-'));
chmodSync(stage, 0o755);
try {
  const entryPoints = ['src/bin.ts', 'src/index.ts']
    .concat(['src/daemon/modules/worker-entry.ts', 'src/daemon/modules/host-entry.ts'].filter((f) => existsSync(path.join(root, f))))
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
    outdir: stage,
    outbase: path.join(root, 'src'),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // zod is bundled into the daemon's chunks: loaded from node_modules it is ~120 ES modules, which
    // doubled the daemon's start-up. The MCP SDK too, for the same reason: loaded from node_modules
    // (hundreds of modules) `claude-daemon mcp` took 1-2 s to start on a busy 2-core machine, bundled
    // ~0.2 s, well inside the ~2 s the claude CLI waits for MCP servers. Everything else stays
    // external. (The CLI's static graph never reaches zod either way; test/core/architecture.test.ts
    // checks it.)
    external: Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter((name) => name !== 'zod' && name !== '@modelcontextprotocol/sdk'),
    plugins: [englishOnlyZod],
    sourcemap: 'linked',
    // Whitespace and syntax only, names kept (stack traces in daemon.log stay readable): the source
    // text V8 keeps for the daemon's chunk halves, ~1.2 MiB less resident memory.
    minifyWhitespace: true,
    minifySyntax: true,
    chunkNames: 'chunks/[name]-[hash]',
    logLevel: 'warning',
  });
  chmodSync(path.join(stage, 'bin.js'), 0o755);

  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (existsSync(tsc)) execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--outDir', path.join(stage, 'types')], { stdio: 'inherit' });

  const wrapperSrc = path.join(root, 'native', 'wrap.c');
  if (existsSync(wrapperSrc)) {
    try {
      execFileSync(process.env['CC'] || 'cc', ['-O2', '-Wall', '-o', path.join(stage, 'claude-daemon-wrap'), wrapperSrc, path.join(root, 'native', 'serve.c'), path.join(root, 'native', 'keep.c'), path.join(root, 'native', 'lock.c')], { stdio: 'inherit' });
    } catch (err) {
      // Without the wrapper the daemon still starts (ping, modules), and spawns fail with a message
      // saying how to fix it; failing `npm ci` here would leave nothing usable at all.
      process.stderr.write(`\nclaude-daemon: could not compile native/wrap.c (${err.message.split('\n')[0]}).\n` +
        'Processes cannot be spawned until it is built: install a C compiler (Debian: apt-get install gcc libc6-dev), then run `npm run build`.\n\n');
    }
  }

  // The swap. A process already running from the old tree keeps its files (the wrapper binary is
  // held by its inode; see supervisor/launch.ts); new opens find the new tree.
  const old = existsSync(target) ? `${target}.old-${process.pid}` : undefined;
  if (old) renameSync(target, old);
  renameSync(stage, target);
  if (old) rmSync(old, { recursive: true, force: true });
} finally {
  rmSync(stage, { recursive: true, force: true });
}
