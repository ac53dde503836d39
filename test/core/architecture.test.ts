/**
 * The layering, checked from the source and the build rather than trusted: imports flow
 * cli -> client -> protocol <- daemon, protocol does no I/O, and the built CLI's static module graph
 * never loads zod (so `claude-daemon ping` stays lean).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { VERSION } from '../../src/version.js';
import { ROOT } from '../helpers/daemon.js';

const SRC = path.join(ROOT, 'src');
const DIST = path.join(ROOT, 'dist');

interface Import {
  spec: string;
  typeOnly: boolean;
  dynamic: boolean;
}

/**
 * Static, re-export and dynamic imports of a TypeScript or JavaScript file (comments stripped); built
 * files are minified, so no whitespace is required around `from`.
 */
function importsOf(file: string): Import[] {
  const text = stripComments(fs.readFileSync(file, 'utf8'));
  const out: Import[] = [];
  for (const m of text.matchAll(/(?:^|;)\s*(?:import|export)\b\s*(type\s+)?(?:[^'";]*?[\s}*]from\s*)?['"]([^'"]+)['"]/gm)) {
    out.push({ spec: m[2]!, typeOnly: m[1] !== undefined, dynamic: false });
  }
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push({ spec: m[1]!, typeOnly: false, dynamic: true });
  return out;
}

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : /\.(ts|js|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** The layer a source file belongs to: its first directory under src/, or the file itself at the top. */
function layerOf(file: string): string {
  const rel = path.relative(SRC, file).split(path.sep);
  return rel.length > 1 ? rel[0]! : rel[0]!.replace(/\.ts$/, '');
}

/** What each layer may import (by layer), besides itself, version.ts and npm/node modules. */
const ALLOWED: Record<string, string[]> = {
  protocol: [],
  client: ['protocol'],
  daemon: ['protocol'],
  cli: ['client', 'protocol', 'mcp'],
  mcp: ['client', 'protocol'],
  index: ['client', 'protocol'],
  bin: ['cli', 'daemon'],
};

test('imports flow cli -> (mcp ->) client -> protocol <- daemon', () => {
  const problems: string[] = [];
  for (const file of walk(SRC)) {
    const from = layerOf(file);
    if (from === 'version') continue;
    const allowed = ALLOWED[from];
    assert.ok(allowed, `src/${path.relative(SRC, file)}: unknown layer '${from}'; add it to the architecture test`);
    for (const imp of importsOf(file)) {
      if (!imp.spec.startsWith('.')) continue;
      const target = path.resolve(path.dirname(file), imp.spec).replace(/\.js$/, '.ts');
      const to = layerOf(target);
      if (to === from || to === 'version' || allowed.includes(to)) continue;
      problems.push(`src/${path.relative(SRC, file)} imports ${imp.spec} (${from} -> ${to})`);
    }
  }
  assert.deepEqual(problems, []);
});

test('the composition root loads the daemon only lazily', () => {
  const daemonImports = importsOf(path.join(SRC, 'bin.ts')).filter((i) => i.spec.includes('daemon/'));
  assert.ok(daemonImports.length > 0);
  assert.ok(daemonImports.every((i) => i.dynamic), 'bin.ts must import the daemon with import()');
});

test('protocol does no I/O: no node: imports, no Node globals', () => {
  for (const file of walk(path.join(SRC, 'protocol'))) {
    for (const imp of importsOf(file)) assert.ok(!imp.spec.startsWith('node:'), `${path.relative(ROOT, file)} imports ${imp.spec}`);
    const code = stripComments(fs.readFileSync(file, 'utf8'));
    assert.doesNotMatch(code, /\b(?:process|Buffer)\.[A-Za-z_]|\brequire\(/, `${path.relative(ROOT, file)} uses a Node global`);
  }
});

test('client and cli never import zod at run time (type-only imports are fine)', () => {
  for (const layer of ['client', 'cli']) {
    for (const file of walk(path.join(SRC, layer))) {
      for (const imp of importsOf(file)) {
        if (imp.typeOnly) continue;
        assert.notEqual(imp.spec, 'zod', `${path.relative(ROOT, file)} imports zod at run time`);
        assert.ok(!/protocol\/(schemas\/|commands|validate)/.test(imp.spec), `${path.relative(ROOT, file)} imports ${imp.spec} at run time (it loads zod)`);
      }
    }
  }
});

test('dist/bin.js and every chunk it statically imports never import zod', () => {
  const entry = path.join(DIST, 'bin.js');
  assert.ok(fs.existsSync(entry), 'build first: node scripts/build.mjs');
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = fs.readFileSync(file, 'utf8');
    assert.doesNotMatch(text, /\$ZodType|ZodError/, `${path.relative(ROOT, file)} contains zod's code`);
    for (const imp of importsOf(file)) {
      if (imp.dynamic) continue;
      assert.ok(imp.spec !== 'zod' && !imp.spec.startsWith('zod/'), `${path.relative(ROOT, file)} imports ${imp.spec}`);
      if (imp.spec.startsWith('.')) queue.push(path.resolve(path.dirname(file), imp.spec));
    }
  }
  assert.ok(seen.size >= 2, `followed the static graph (${seen.size} files)`);
  // And the daemon (loaded lazily) does use zod, so the check above is not vacuous.
  const lazy = [...seen].flatMap((f) => importsOf(f).filter((i) => i.dynamic && i.spec.includes('main')));
  assert.ok(lazy.length > 0, 'bin.js loads the daemon lazily');
});

test('the MCP server (and its SDK) loads only in the mcp verb: cli reaches src/mcp by import() alone', () => {
  for (const file of walk(SRC)) {
    const rel = path.relative(SRC, file);
    for (const imp of importsOf(file)) {
      if (imp.typeOnly) continue;
      if (imp.spec.startsWith('@modelcontextprotocol/')) assert.ok(rel.startsWith(`mcp${path.sep}`), `src/${rel} imports ${imp.spec}`);
      if (layerOf(file) !== 'mcp' && imp.spec.startsWith('.') && layerOf(path.resolve(path.dirname(file), imp.spec)) === 'mcp') {
        assert.ok(imp.dynamic, `src/${rel} imports ${imp.spec} statically (use import() so other verbs never load the SDK)`);
      }
    }
  }
  // And in the build: the static graph of dist/bin.js holds none of the SDK's code.
  const seen = new Set<string>();
  const queue = [path.join(DIST, 'bin.js')];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    assert.doesNotMatch(fs.readFileSync(file, 'utf8'), /StdioServerTransport|ListToolsRequestSchema/, `${path.relative(ROOT, file)} contains the MCP SDK`);
    for (const imp of importsOf(file)) if (!imp.dynamic && imp.spec.startsWith('.')) queue.push(path.resolve(path.dirname(file), imp.spec));
  }
});

test('package.json version equals src/version.ts VERSION', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.equal(pkg.version, VERSION);
});
