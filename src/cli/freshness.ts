/**
 * Whether the dist/ this CLI runs from predates the checkout's sources: `npx claude-daemon` builds
 * dist/ only the first time in a checkout, so after a `git pull` or an edit, `start` would otherwise
 * run old code without a word. Only a checkout has src/ beside dist/; an installed package never does.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the build reads (the INPUTS list of scripts/build-announce.mjs). */
const INPUTS = ['src', 'native', 'scripts/build.mjs', 'scripts/build-announce.mjs', 'package.json', 'tsconfig.build.json'];

/** The checkout root above this file (a package.json named claude-daemon with src/ beside it), if any. */
export function checkoutRoot(from = path.dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        if ((JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'claude-daemon') return fs.existsSync(path.join(dir, 'src')) ? dir : undefined;
      } catch {
        return undefined;
      }
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * The first input file (relative to `root`) newer than dist/.build-stamp, or undefined when dist/
 * is current or carries no stamp (then nothing can be said).
 */
export function staleInput(root: string): string | undefined {
  let built: number;
  try {
    built = fs.statSync(path.join(root, 'dist', '.build-stamp')).mtimeMs;
  } catch {
    return undefined;
  }
  const visit = (p: string): string | undefined => {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      return undefined;
    }
    if (!st.isDirectory()) return st.mtimeMs > built ? path.relative(root, p) : undefined;
    // Plain concatenation, not path.join: a checkout's ~250 files made path.join's normalizeString
    // hot enough for V8 to compile it with TurboFan at every `start`, which alone put ~3.5 MiB of
    // the optimizing compiler's code into the idle daemon's RSS (the names come from readdir: no
    // `..`, no separators, so there is nothing to normalize).
    for (const name of fs.readdirSync(p)) {
      const hit = visit(`${p}/${name}`);
      if (hit !== undefined) return hit;
    }
    return undefined;
  };
  for (const input of INPUTS) {
    const hit = visit(path.join(root, input));
    if (hit !== undefined) return hit;
  }
  return undefined;
}
