/**
 * The CLI as a shell user runs it (`node dist/bin.js`): exit codes 0/1/2/3, `--json` printing the exact
 * result, `--help` for every verb, and `start --detach`.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runCli, startTestDaemon, tempDir, type TestDaemon } from '../helpers/daemon.js';
import { RawConn } from '../helpers/raw.js';
import { waitFor } from '../helpers/wait.js';
import { VERSION } from '../../src/version.js';

let d: TestDaemon;
before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d.stop();
});

const noDaemonSocket = (): string => path.join(tempDir('cd-cli-'), 'nobody.sock');

test('ping: exit 0 and a human line by default', async () => {
  const r = await d.cli(['ping']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^pong: claude-daemon ${VERSION.replace(/\./g, '\\.')}, pid ${d.proc.pid}, up .+, socket ${d.socket}, no keeper\\n$`));
  assert.equal(r.stderr, '');
});

test('ping --json prints exactly the result object the daemon sent, on one line', async () => {
  const raw = await RawConn.open(d.socket);
  const wire = (await raw.request({ command: 'ping' })).result as Record<string, unknown>;
  raw.close();
  const r = await d.cli(['ping', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.split('\n').length, 2, 'one line');
  const printed = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.deepEqual(Object.keys(printed), Object.keys(wire));
  assert.deepEqual({ ...printed, uptime_s: 0 }, { ...wire, uptime_s: 0 });
  assert.equal(typeof printed['uptime_s'], 'number');
});

test('request: any command by name; a daemon error exits 1 with its code and message on stderr', async () => {
  const ok = await d.cli(['request', 'ping', '{}']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal((JSON.parse(ok.stdout) as { pong: boolean }).pong, true);

  const unknown = await d.cli(['request', 'no_such_command']);
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stdout, '');
  assert.match(unknown.stderr, /^error \[UNKNOWN_COMMAND\]: unknown command "no_such_command"; known commands: /);

  const bad = await d.cli(['request', 'shutdown', '{"kill_processes": "no"}']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^error \[INVALID_PARAMS\]: .*kill_processes/);
  assert.equal((await d.cli(['ping'])).code, 0, 'the daemon is still up');
});

test('usage errors exit 2 with the usage line on stderr', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['ping', '--bogus'], /usage: claude-daemon ping/],
    [['ping', 'extra-arg'], /usage: claude-daemon ping/],
    [['start', '--max-line-bytes', 'lots'], /--max-line-bytes takes a whole number/],
    [['request'], /missing the command name/],
    [['request', 'ping', '{not json'], /PARAMS_JSON is not valid JSON/],
    [['request', 'ping', '[1]'], /must be a JSON object/],
  ];
  for (const [args, msg] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg, args.join(' '));
    assert.equal(r.stdout, '', args.join(' '));
  }
  const none = await runCli([]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /usage: claude-daemon \[--socket PATH\] \[--json\] <command>/);
});

test('no daemon reachable exits 3, saying no daemon runs on that path and how to start one', async () => {
  const socket = noDaemonSocket();
  for (const verb of ['ping', 'shutdown']) {
    const r = await runCli([verb, '--socket', socket]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, new RegExp(`no daemon is running on ${socket.replace(/[.]/g, '\\.')}`));
    assert.match(r.stderr, /claude-daemon start/);
  }
  const viaEnv = await runCli(['ping'], { env: { CLAUDE_DAEMON_SOCKET: socket } });
  assert.equal(viaEnv.code, 3);
  assert.match(viaEnv.stderr, new RegExp(socket.replace(/[.]/g, '\\.')));
});

test('the socket comes from CLAUDE_DAEMON_SOCKET when --socket is absent', async () => {
  const r = await runCli(['ping', '--json'], { env: { CLAUDE_DAEMON_SOCKET: d.socket } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { pid: number }).pid, d.proc.pid);
});

test('--help for every verb exits 0 and shows its usage; the general help lists them all', async () => {
  const general = await runCli(['--help']);
  assert.equal(general.code, 0);
  const verbs = ['start', 'ping', 'shutdown', 'request'];
  for (const v of verbs) assert.match(general.stdout, new RegExp(`^  ${v}\\s+\\S`, 'm'), v);
  assert.match(general.stdout, /exit codes: 0 ok, 1 .*, 2 usage error, 3 no daemon reachable/);
  for (const v of verbs) {
    const r = await runCli([v, '--help']);
    assert.equal(r.code, 0, `${v}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^usage: claude-daemon ${v}\\b`), v);
    assert.match(r.stdout, /--json/, v);
  }
  const start = await runCli(['start', '--help']);
  for (const flag of ['--socket', '--home', '--modules-dir', '--detach', '--max-line-bytes']) assert.match(start.stdout, new RegExp(flag));
  const version = await runCli(['--version']);
  assert.deepEqual([version.code, version.stdout], [0, `${VERSION}\n`]);
});

test('start --detach returns once the daemon answers, prints its pid and socket; shutdown stops it', async () => {
  const dir = tempDir('cd-detach-');
  const socket = path.join(dir, 'd.sock');
  const home = path.join(dir, 'home');
  const r = await runCli(['start', '--detach', '--socket', socket, '--home', home, '--modules-dir', path.join(dir, 'mods')]);
  assert.equal(r.code, 0, r.stderr);
  const m = /^claude-daemon started: pid (\d+), socket (.+)\nkept by keeper pid \d+: .+\n$/.exec(r.stdout);
  assert.ok(m, r.stdout);
  const pid = Number(m[1]);
  assert.equal(m[2], socket);
  try {
    // It answered before `start` returned: no waiting needed here.
    const ping = await runCli(['ping', '--json', '--socket', socket]);
    assert.equal(ping.code, 0, ping.stderr);
    assert.equal((JSON.parse(ping.stdout) as { pid: number }).pid, pid);
    assert.ok(fs.existsSync(path.join(home, 'daemon.log')));

    const again = await runCli(['start', '--detach', '--socket', socket, '--home', home]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, new RegExp(`pid ${pid}\\b`));
  } finally {
    const s = await runCli(['shutdown', '--socket', socket]);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /shutting down/);
  }
  await waitFor(() => !isAlive(pid), { what: `detached daemon ${pid} to exit` });
  assert.equal(fs.existsSync(socket), false);
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
