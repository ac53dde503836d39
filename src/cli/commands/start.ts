import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect } from '../../client/client.js';
import { resolveHome, resolveSocketPath } from '../../protocol/paths.js';
import type { ResultOf } from '../../protocol/index.js';
import { findKeeper, stopKeeperAndDaemon } from '../keeper-binary.js';
import { printJson } from '../output.js';
import { UsageError, type StartOptions, type Verb, type VerbContext } from '../verb.js';
import { checkoutRoot, staleInput } from '../freshness.js';
import { parseDuration } from '../duration.js';

const READY_TIMEOUT_MS = 15_000;

/** `start`: runs the daemon in this process, or with --detach in the background until it answers. */
export const verb: Verb = {
  usage: 'start [--socket PATH] [--home DIR] [--modules-dir DIR] [--max-running N] [--max-pids N] [--max-line-bytes N] [--keep-ended N] [--keep-ended-for DURATION] [--budget-usd USD] [--hold-at-utilization F] [--detach [--no-keeper]]',
  description: 'Starts the daemon. In the foreground it logs to stderr and to daemon.log in its state directory; --detach returns once the daemon answers ping and prints its pid and socket, and leaves it to a keeper that starts it again if it dies (only `shutdown` stops both).',
  help: [
    '  --socket PATH       socket path (else $CLAUDE_DAEMON_SOCKET, else /tmp/claude_daemon.sock)',
    '  --home DIR          state directory (else $CLAUDE_DAEMON_HOME, else $XDG_STATE_HOME/claude-daemon or ~/.local/state/claude-daemon)',
    '  --modules-dir DIR   modules directory (else $CLAUDE_MODULES_DIR, else ./claude_modules)',
    '  --max-running N     run at most N processes at once; more are queued (default: no limit)',
    '  --max-pids N        at most N processes/threads in each child\'s tree, e.g. a fork bomb (default 4096; a pids cgroup per child where writable, see `ping`)',
    '  --max-line-bytes N  longest request line accepted (default 1048576)',
    '  --keep-ended N      keep at most N ended records, removing the oldest (default 10000; 0 = no limit)',
    '  --keep-ended-for DURATION  remove ended records older than this, e.g. 12h, 7d (default 7d; 0 = no limit)',
    '  --budget-usd USD    spending budget of all claude runs together: once their reported cost reaches it, queued',
    '                      claude runs stay queued, and each starts with --max-budget-usd at what is left (see `ping`)',
    '  --hold-at-utilization F  stop starting claude runs once the usage utilisation claude reports reaches F (0-1), until its reset',
    '  --module-memory-mb N  memory cap of each module version in MB (default 256)',
    '  --detach            run in the background, kept by a small keeper process (claude-daemon-wrap --keep) that',
    '                      starts a new daemon within a second if it dies (SIGKILL, OOM, crash, `pkill node`);',
    '                      `claude-daemon shutdown` stops both; `ping` shows the keeper',
    '  --no-keeper         with --detach: no keeper (nothing restarts the daemon)',
  ],
  options: {
    home: { type: 'string' },
    'modules-dir': { type: 'string' },
    'max-running': { type: 'string' },
    'max-pids': { type: 'string' },
    'max-line-bytes': { type: 'string' },
    'keep-ended': { type: 'string' },
    'keep-ended-for': { type: 'string' },
    'module-memory-mb': { type: 'string' },
    'budget-usd': { type: 'string' },
    'hold-at-utilization': { type: 'string' },
    detach: { type: 'boolean' },
    'no-keeper': { type: 'boolean' },
  },
  async run(ctx) {
    const opts = startOptions(ctx);
    warnIfStale(ctx);
    if (ctx.values['detach'] === true) return detach(ctx, opts);
    if (ctx.values['no-keeper'] === true) throw new UsageError('--no-keeper goes with --detach (a foreground daemon has no keeper)');
    const daemon = await ctx.deps.loadDaemon();
    try {
      const running = await daemon.runDaemon({ ...opts, logToStderr: process.env['CLAUDE_DAEMON_QUIET'] !== '1' });
      await running.closed;
      return running.exitCode();
    } catch (err) {
      if (err instanceof daemon.StartError) {
        ctx.out.stderr(`claude-daemon start: ${err.message}\n`);
        return err.exitCode ?? 1;
      }
      throw err;
    }
  },
};

/** In a checkout whose sources changed after the last build, says that this starts the old build. */
function warnIfStale(ctx: VerbContext): void {
  const root = checkoutRoot();
  const changed = root === undefined ? undefined : staleInput(root);
  if (changed === undefined) return;
  ctx.out.stderr(
    `claude-daemon start: ${changed} changed after dist/ was built, so this starts the previous build; run \`npm run build\` first to start the current sources\n`,
  );
}

function startOptions(ctx: VerbContext): StartOptions {
  const opts: StartOptions = {};
  if (ctx.socket !== undefined) opts.socket = ctx.socket;
  if (typeof ctx.values['home'] === 'string') opts.home = ctx.values['home'];
  if (typeof ctx.values['modules-dir'] === 'string') opts.modulesDir = ctx.values['modules-dir'];
  const maxRunning = positiveInt(ctx.values['max-running'], '--max-running');
  if (maxRunning !== undefined) opts.maxRunning = maxRunning;
  const maxPids = positiveInt(ctx.values['max-pids'], '--max-pids');
  if (maxPids !== undefined) opts.maxPids = maxPids;
  const maxLine = positiveInt(ctx.values['max-line-bytes'], '--max-line-bytes');
  if (maxLine !== undefined) opts.maxLineBytes = maxLine;
  const moduleMemory = positiveInt(ctx.values['module-memory-mb'], '--module-memory-mb');
  if (moduleMemory !== undefined) opts.moduleMemoryMb = moduleMemory;
  const hau = ctx.values['hold-at-utilization'];
  if (hau !== undefined) {
    const f = Number(hau);
    if (!Number.isFinite(f) || f <= 0 || f > 1 || String(hau).trim() === '') throw new UsageError(`--hold-at-utilization takes a fraction above 0 and at most 1, e.g. 0.9, not '${String(hau)}'`);
    opts.holdAtUtilization = f;
  }
  const keep = ctx.values['keep-ended'];
  if (keep !== undefined) {
    const n = Number(keep);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`--keep-ended takes a whole number (0 = no limit), not '${String(keep)}'`);
    opts.keepEnded = n;
  }
  const keepFor = ctx.values['keep-ended-for'];
  if (keepFor !== undefined) {
    const s = parseDuration(String(keepFor));
    if (s === undefined) throw new UsageError(`--keep-ended-for takes a duration such as 90s, 30m, 12h or 7d (0 = no limit), not '${String(keepFor)}'`);
    opts.keepEndedForS = s;
  }
  const budget = ctx.values['budget-usd'];
  if (budget !== undefined) {
    const n = Number(budget);
    if (typeof budget !== 'string' || budget.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`--budget-usd takes an amount in dollars such as 5 or 0.25, not '${String(budget)}'`);
    opts.budgetUsd = n;
  }
  return opts;
}

function positiveInt(v: unknown, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} takes a whole number of at least 1, not '${String(v)}'`);
  return n;
}

/** `start --detach`: launches the daemon in the background and reports it on stdout. */
async function detach(ctx: VerbContext, opts: StartOptions): Promise<number> {
  // The same flags again, for the detached `start` (minus the ones that only mean something here).
  const startArgs = process.argv.slice(3).filter((a) => a !== '--detach' && a !== '--json' && a !== '--no-keeper');
  const r = await startDetached(opts, { startArgs, keeper: ctx.values['no-keeper'] !== true });
  if (!r.ok) {
    ctx.out.stderr(`claude-daemon start: ${r.message}`);
    return 1;
  }
  if (ctx.json) printJson(ctx.out, { pid: r.pid, socket: r.socket, home: r.home, keeper: r.keeper });
  else {
    ctx.out.stdout(`claude-daemon started: pid ${r.pid}, socket ${r.socket}\n`);
    ctx.out.stdout(r.keeper !== null ? `kept by keeper pid ${r.keeper}: a daemon that dies is started again; \`claude-daemon shutdown\` stops both\n` : 'no keeper: nothing restarts the daemon if it dies\n');
  }
  return 0;
}

/** What startDetached reports: the daemon that answers, or why none does (a message ending in a newline). */
export type DetachedStart = { ok: true; pid: number; socket: string; home: string; keeper: number | null } | { ok: false; message: string };

/**
 * Re-runs this CLI as a detached `start` and waits until that very daemon answers ping. The daemon
 * runs under a keeper (the C wrapper's `--keep` mode: it survives `pkill node` and costs ~1 MiB)
 * unless `keeper` is false or the wrapper was never compiled; then it is started directly, and
 * `ping` says `keeper: null`. If another daemon answers instead, it waits for its own child to give
 * up (it will refuse the live socket) so that no second daemon is left starting in the background
 * after we have reported failure. `dropEnv` names variables of this process the daemon must not
 * inherit. Prints nothing: `start --detach` and the `mcp` verb (whose stdout
 * carries only protocol messages) report the outcome their own way.
 */
export async function startDetached(opts: StartOptions, how: { startArgs: string[]; keeper: boolean; dropEnv?: readonly string[] }): Promise<DetachedStart> {
  const socket = resolveSocketPath(opts.socket, process.env);
  const live = await pingOnce(socket);
  if (live !== undefined) return { ok: false, message: `a daemon is already running on ${socket} (pid ${live.pid}); stop it with \`claude-daemon shutdown\` first.\n` };
  const home = path.resolve(resolveHome(opts.home, process.env, os.homedir()));
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  const errFile = path.join(home, 'daemon.stderr');
  const errFd = fs.openSync(errFile, 'w', 0o600);
  const args = [process.argv[1] ?? '', 'start', ...how.startArgs];
  const keeperBin = how.keeper ? findKeeper() : undefined;
  const [file, argv] = keeperBin !== undefined ? [keeperBin, ['--keep', '--', process.execPath, ...args]] : [process.execPath, args];
  const env: NodeJS.ProcessEnv = { ...process.env, CLAUDE_DAEMON_QUIET: '1' };
  for (const name of how.dropEnv ?? []) delete env[name];
  const child = spawn(file, argv, { detached: true, stdio: ['ignore', 'ignore', errFd], env });
  fs.closeSync(errFd);
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  child.on('error', () => (exited = null));
  child.unref();
  // Ours is the daemon whose pid we started, or (kept) whose keeper we started.
  const ours = (r: ResultOf<'ping'>): boolean => (keeperBin !== undefined ? r.keeper?.pid === child.pid : r.pid === child.pid);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited !== undefined) return { ok: false, message: `the daemon exited (code ${exited}) before answering:\n${fs.readFileSync(errFile, 'utf8')}` };
    const r = await pingOnce(socket);
    if (r !== undefined && ours(r)) return { ok: true, pid: r.pid, socket: path.resolve(socket), home, keeper: r.keeper?.pid ?? null };
    // Nobody yet, or another daemon that won a race (our child will then exit and say so).
    await new Promise((r) => setTimeout(r, 25));
  }
  // Too slow: stop what we started, the keeper and the daemon it may be starting again and again.
  if (keeperBin !== undefined && child.pid !== undefined) stopKeeperAndDaemon(child.pid);
  else child.kill('SIGTERM');
  return { ok: false, message: `no answer on ${socket} within ${READY_TIMEOUT_MS / 1000}s (stopped it); see ${path.join(home, 'daemon.log')} and ${errFile}\n` };
}

/** What the daemon answering on `socket` says of itself, or undefined if none answers. */
async function pingOnce(socket: string): Promise<ResultOf<'ping'> | undefined> {
  try {
    const client = await connect({ socketPath: socket, connectTimeoutMs: 1000 });
    try {
      return await client.ping({ timeoutMs: 1000 });
    } finally {
      client.close();
    }
  } catch {
    return undefined;
  }
}
