/**
 * Process directories without a record.json, found at start. To keep the spawn path short, the
 * wrapper creates a direct spawn's directory and the daemon writes record.json only once the wrapper
 * reported the command running; a daemon killed in between leaves a directory with the wrapper's
 * `started` line and no record. That command runs (or ran) all the same, so it is adopted with a
 * record rebuilt from what the wrapper left: `started` (pids and start times) and, while the wrapper
 * lives, its command line (the command, its cwd). A directory with neither (the daemon died before
 * the wrapper ran, or while writing stdin) belonged to a spawn that was never acknowledged and never
 * ran: it is deleted. Either way no directory stays half-known.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.js';
import { currentBootId, earlierBoot } from '../state/boot.js';
import { DEFAULT_DESCENDANTS_GRACE_S } from './lifecycle.js';
import { cmdline, isAlive, wrapperFor } from './proc.js';
import { ProcessDir, readStarted, writeStored, type StartedFile, type StoredProcess } from './store.js';

/** Rebuilds and writes the record of `name` (see the file comment), or deletes the directory. */
export async function recoverOrphan(root: string, name: string, seq: number, log: Logger): Promise<StoredProcess | undefined> {
  const pd = new ProcessDir(path.join(root, name));
  let st = await readStarted(pd);
  // A wrapper for this directory still exists: it is about to write `started` (give it 2 s).
  for (let i = 0; i < 100 && st === undefined && wrapperFor(pd.dir); i++) {
    await new Promise((r) => setTimeout(r, 20));
    st = await readStarted(pd);
  }
  if (st === undefined) {
    log.info(`removing ${pd.dir}: its spawn was never acknowledged and the command never ran`);
    await fs.promises.rm(pd.dir, { recursive: true, force: true });
    return undefined;
  }
  const at = startedAt(pd);
  // From before a reboot, its pids now name strangers: their command lines are not this one's.
  const rebooted = earlierBoot(null, at) !== undefined;
  const { cmd, cwd, grace } = rebooted ? { cmd: [UNKNOWN_CMD], cwd: '/', grace: DEFAULT_DESCENDANTS_GRACE_S } : commandOf(st);
  const stored: StoredProcess = {
    version: 1,
    record: {
      process_id: name, pid: st.pid, status: 'running', cmd, cwd, name: null,
      exit_code: null, signal: null, created_at: at, started_at: at, ended_at: null, duration_ms: null,
      stdout_bytes: 0, stderr_bytes: 0, timeout_s: null,
      reason: null, descendants_grace_s: grace, descendants: null,
    },
    seq, env: null, has_stdin: fs.existsSync(pd.stdin),
    wrapper_pid: st.wrapperPid, wrapper_start: st.wrapperStart, pid_start: st.pidStart,
    boot_id: rebooted ? null : currentBootId(),
  };
  writeStored(pd, stored);
  log.warn(`process ${name}: the daemon died before recording its spawn; adopted from the wrapper's files (its name, timeout and env overrides were not recorded)`);
  return stored;
}

const UNKNOWN_CMD = '(unknown: the daemon died while starting it, and the command has ended)';

/**
 * The command line, cwd and descendants grace (seconds, null = kept; from `-g MS`), from the
 * wrapper's argv (or the command's own) while one lives.
 */
function commandOf(st: StartedFile): { cmd: string[]; cwd: string; grace: number | null } {
  let grace: number | null = DEFAULT_DESCENDANTS_GRACE_S;
  if (isAlive(st.wrapperPid, st.wrapperStart)) {
    const argv = cmdline(st.wrapperPid);
    const sep = argv.indexOf('--', 4);
    const g = argv.indexOf('-g', 4);
    if (g > 0 && g < sep) grace = Number(argv[g + 1]) < 0 ? null : Number(argv[g + 1]) / 1000;
    if (sep > 0 && sep + 1 < argv.length) return { cmd: argv.slice(sep + 1), cwd: argv[2] || '/', grace };
  }
  if (isAlive(st.pid, st.pidStart)) {
    const argv = cmdline(st.pid);
    let cwd = '/';
    try {
      cwd = fs.readlinkSync(`/proc/${st.pid}/cwd`);
    } catch {
      // Unknown.
    }
    if (argv.length > 0) return { cmd: argv, cwd, grace };
  }
  return { cmd: [UNKNOWN_CMD], cwd: '/', grace };
}

/** When the wrapper wrote `started` (close to the command's start). */
function startedAt(pd: ProcessDir): string {
  try {
    return fs.statSync(path.join(pd.dir, 'started')).mtime.toISOString();
  } catch {
    return new Date().toISOString();
  }
}
