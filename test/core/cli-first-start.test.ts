/**
 * `start` in a checkout whose sources changed after dist/ was built says so at once, instead of
 * silently running the old build (`npx claude-daemon` builds dist/ only the first time in a checkout).
 * A copy of dist/ in a temp "checkout" stands in for the real one, so the suite's dist/ is untouched.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BIN, ROOT } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

let dir: string;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cd-checkout-'));
  fs.cpSync(path.dirname(BIN), path.join(dir, 'dist'), { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'claude-daemon', type: 'module' }));
  fs.mkdirSync(path.join(dir, 'src', 'cli'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'src', 'cli', 'main.ts'), '// edited\n');
});
after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Starts the copied CLI's `start` in the foreground; resolves with its stderr once `until` matches, then stops it. */
async function startAndRead(until: RegExp): Promise<{ stderr: string; firstLineMs: number }> {
  const t0 = Date.now();
  let firstLineMs = -1;
  let stderr = '';
  const p = spawn(process.execPath, [path.join(dir, 'dist', 'bin.js'), 'start', '--socket', path.join(dir, 's.sock'), '--home', path.join(dir, 'home'), '--modules-dir', path.join(dir, 'mods')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  p.stderr.setEncoding('utf8').on('data', (d: string) => {
    if (firstLineMs < 0) firstLineMs = Date.now() - t0;
    stderr += d;
  });
  const exited = new Promise((r) => p.once('exit', r));
  try {
    await waitFor(() => until.test(stderr), { what: `start's stderr to match ${until}`, timeoutMs: 20_000 });
  } finally {
    p.kill('SIGTERM');
    await exited;
  }
  return { stderr, firstLineMs };
}

test('start says at once that the sources changed after dist/ was built, and names the file', async () => {
  const stampFile = path.join(dir, 'dist', '.build-stamp');
  assert.ok(fs.existsSync(stampFile), 'the build stamps dist/');
  const old = new Date(Date.now() - 60_000);
  fs.utimesSync(stampFile, old, old);
  const r = await startAndRead(/listening on/);
  const first = r.stderr.split('\n')[0]!;
  assert.match(first, /^claude-daemon start: src\/cli\/main\.ts changed after dist\/ was built, so this starts the previous build; run `npm run build` first/);
  // "Within a second" on a quiet machine; the bound here is wide so that load cannot fail it.
  assert.ok(r.firstLineMs < 10_000, `first line after ${r.firstLineMs} ms`);
});

test('a current build starts without that warning', async () => {
  const now = new Date(Date.now() + 1000);
  fs.utimesSync(path.join(dir, 'dist', '.build-stamp'), now, now);
  const r = await startAndRead(/listening on/);
  assert.doesNotMatch(r.stderr, /changed after dist/);
});
