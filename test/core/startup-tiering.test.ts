/**
 * A fresh daemon's start compiles nothing with V8's optimizing compiler: one TurboFan compilation
 * (Node's path `normalizeString`, made hot by loading the daemon's files and preparing its state
 * directory) mapped ~3 MiB of the compiler's code into the idle daemon's RSS. Read from V8's own
 * `--trace-opt` lines on the daemon's stdout (nothing else writes there).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { BIN, pingOnce, tempDir } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

test('a fresh daemon starts without a TurboFan compilation (idle RSS)', async () => {
  const dir = tempDir('cd-tier-');
  const socket = path.join(dir, 'daemon.sock');
  fs.mkdirSync(path.join(dir, 'modules'));
  const proc = spawn(process.execPath, ['--trace-opt', BIN, 'start', '--socket', socket, '--home', path.join(dir, 'home'), '--modules-dir', path.join(dir, 'modules')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise((r) => proc.once('exit', r));
  try {
    await waitFor(
      () => {
        if (proc.exitCode !== null) throw new Error(`daemon exited ${proc.exitCode}: ${stderr}`);
        return pingOnce(socket);
      },
      { what: 'daemon to answer ping', timeoutMs: 15_000 },
    );
    // What the start did, up to the first answer; later work may optimize as usual.
    const turbofan = stdout.split('\n').filter((l) => l.includes('TURBOFAN'));
    assert.deepEqual(turbofan, [], 'the start optimized functions with TurboFan: every idle daemon now carries ~3 MiB of compiler code (see src/daemon/startup-tiering.ts: more start-time work? raise START_TICKS or make that work lighter)');
  } finally {
    proc.kill('SIGTERM');
    await exited;
  }
});
