/**
 * CLAUDE_NOT_FOUND comes from the daemon, which looks in its own environment: the message says so,
 * shows the PATH it searched, and says how to give a running daemon CLAUDE_BIN (restart it with it,
 * or pass it with the run).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

let d: TestDaemon;
let emptyBin: string;
before(async () => {
  d = await startTestDaemon({ env: { PATH: '/nonexistent-cd-bin', CLAUDE_BIN: '' } });
  emptyBin = path.join(d.dir, 'empty-bin');
  fs.mkdirSync(emptyBin);
});
after(async () => {
  await d.stop();
});

test('CLAUDE_NOT_FOUND names the daemon, its PATH, and how to set CLAUDE_BIN for a running daemon', async () => {
  // This shell has a claude on its PATH; the daemon does not, and the message must not blame the shell.
  const r = await d.cli(['claude', 'hello'], { env: { PATH: `${emptyBin}:${process.env['PATH']}` } });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^error \[CLAUDE_NOT_FOUND\]: /);
  assert.match(r.stderr, new RegExp(`the daemon \\(pid ${d.proc.pid}\\) found no \`claude\` on its PATH \\(/nonexistent-cd-bin\\)`));
  assert.match(r.stderr, /restart the daemon with CLAUDE_BIN set/);
  assert.match(r.stderr, /CLAUDE_BIN=\/path\/to\/claude claude-daemon start/);
  const notExec = await d.cli(['request', 'spawn_claude', JSON.stringify({ prompt: 'hi', env: { CLAUDE_BIN: emptyBin } })]);
  assert.equal(notExec.code, 1);
  assert.match(notExec.stderr, new RegExp(`CLAUDE_BIN is ${emptyBin.replace(/[.]/g, '\\.')}, which is not an executable file`));
  assert.match(notExec.stderr, /\(the daemon's environment overlaid with the request's env\)/);
});
