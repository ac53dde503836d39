/**
 * The per-process limit on processes and threads (a fork bomb stops at it instead of taking the
 * machine). Best mechanism first, chosen once at daemon start by trying it:
 * - `cgroup-v1` / `cgroup-v2`: each command gets its own pids cgroup
 *   (`<pids hierarchy>/<daemon's cgroup>/claude-daemon-<uid>/<id>.<hash of the state dir>`) with
 *   pids.max = N; the wrapper creates it and the command joins it before exec, so its whole tree,
 *   setsid'd or not, counts against N. The wrapper removes it when the command ends (the daemon
 *   retries at remove_process when descendants outlived the command).
 * - `rlimit`: RLIMIT_NPROC = N for the command. Weaker: it counts every process of the user, not
 *   of the tree, and root ignores it; used only where cgroups are not writable and we are not root.
 * - `none`: root without a writable pids cgroup.
 * `ping` reports which one applies.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.js';

/** The default limit: generous for any real workload (claude plus its tool shells), fatal to a bomb. */
export const DEFAULT_MAX_PIDS = 4096;

/** Which limit applies to children, as `ping` reports it. */
export interface PidsLimit {
  mechanism: 'cgroup-v1' | 'cgroup-v2' | 'rlimit' | 'none';
  max: number;
  /** Directory under which per-process cgroups are created (cgroup mechanisms only). */
  base?: string;
  /** Distinguishes daemons on different state directories sharing `base`. */
  tag?: string;
}

/** Chooses the mechanism by trying each (see the file comment). */
export function detectPidsLimit(max: number, root: string, log: Logger): PidsLimit {
  const tag = fnv1a(root);
  const uid = process.getuid?.() ?? 0;
  for (const v of ['cgroup-v1', 'cgroup-v2'] as const) {
    const base = cgroupBase(v, uid);
    if (base === undefined) continue;
    try {
      fs.mkdirSync(base, { recursive: true, mode: 0o755 });
      if (v === 'cgroup-v2') enableV2Pids(base);
      const probe = path.join(base, `probe.${process.pid}`);
      fs.mkdirSync(probe);
      try {
        fs.writeFileSync(path.join(probe, 'pids.max'), String(max));
      } finally {
        fs.rmdirSync(probe);
      }
      return { mechanism: v, max, base, tag };
    } catch (err) {
      log.info(`pids limit: ${v} at ${base} is not usable (${(err as Error).message})`);
    }
  }
  if (uid !== 0) return { mechanism: 'rlimit', max };
  log.warn('no writable pids cgroup and running as root: children run without a process-count limit');
  return { mechanism: 'none', max };
}

/** The wrapper's options for one process (inserted before its `--`). */
export function wrapperLimitArgs(limit: PidsLimit, id: string): string[] {
  if (limit.base !== undefined) return ['-p', cgroupOf(limit, id), String(limit.max)];
  if (limit.mechanism === 'rlimit') return ['-n', String(limit.max)];
  return [];
}

/** Removes a process's cgroup if it is still there and empty (after its tree has ended). */
export function releaseCgroup(limit: PidsLimit, id: string): void {
  if (limit.base === undefined) return;
  try {
    fs.rmdirSync(cgroupOf(limit, id));
  } catch {
    // Gone already (the wrapper removed it), or still busy with survivors: nothing to do.
  }
}

/**
 * Kills whatever is still in a process's cgroup and removes it: the last resort of remove_process
 * for leftovers the wrapper no longer holds (it was SIGKILLed and they went to pid 1). Every member
 * belongs to that record's tree by construction. Waits up to 2 s for them to be gone.
 */
export async function killCgroup(limit: PidsLimit, id: string): Promise<void> {
  if (limit.base === undefined) return;
  const dir = cgroupOf(limit, id);
  for (let round = 0; round < 40; round++) {
    let pids: number[];
    try {
      pids = fs.readFileSync(path.join(dir, 'cgroup.procs'), 'latin1').split('\n').filter(Boolean).map(Number);
    } catch {
      return; // No such cgroup (removed by the wrapper, or never made).
    }
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone since the read.
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  releaseCgroup(limit, id);
}

/**
 * At start: removes this daemon's cgroups that no running process owns (left when descendants
 * outlived their command and the process was never removed). Busy ones stay (rmdir refuses them).
 */
export function sweepCgroups(limit: PidsLimit, running: ReadonlySet<string>): void {
  if (limit.base === undefined) return;
  const suffix = `.${limit.tag}`;
  let names: string[];
  try {
    names = fs.readdirSync(limit.base);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.endsWith(suffix) || running.has(name.slice(0, -suffix.length))) continue;
    try {
      fs.rmdirSync(path.join(limit.base, name));
    } catch {
      // Still busy: a survivor lives on in it.
    }
  }
}

/** The pids cgroup directory of process `id`. */
export function cgroupOf(limit: PidsLimit, id: string): string {
  return path.join(limit.base!, `${id}.${limit.tag}`);
}

/** `<mount of the hierarchy><this process's cgroup in it>/claude-daemon-<uid>`, or undefined. */
function cgroupBase(v: 'cgroup-v1' | 'cgroup-v2', uid: number): string | undefined {
  let mountinfo: string;
  let own: string;
  try {
    mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8');
    own = fs.readFileSync('/proc/self/cgroup', 'utf8');
  } catch {
    return undefined;
  }
  let mount: string | undefined;
  for (const line of mountinfo.split('\n')) {
    const [pre, post] = line.split(' - ');
    if (pre === undefined || post === undefined) continue;
    const [fstype, , options] = post.split(' ');
    const point = pre.split(' ')[4];
    if (v === 'cgroup-v1' && fstype === 'cgroup' && options?.split(',').includes('pids')) mount = point;
    if (v === 'cgroup-v2' && fstype === 'cgroup2') mount = point;
    if (mount !== undefined) break;
  }
  if (mount === undefined) return undefined;
  const rel = own
    .split('\n')
    .map((l) => l.split(':'))
    .find(([, ctl]) => (v === 'cgroup-v1' ? (ctl ?? '').split(',').includes('pids') : ctl === ''))?.[2];
  if (rel === undefined) return undefined;
  return path.join(mount.replace(/\\040/g, ' '), rel, `claude-daemon-${uid}`);
}

/** cgroup v2 needs the controller enabled for the children of `base`. */
function enableV2Pids(base: string): void {
  const controllers = fs.readFileSync(path.join(base, 'cgroup.controllers'), 'utf8').split(/\s+/);
  if (!controllers.includes('pids')) throw new Error('the pids controller is not enabled here');
  fs.writeFileSync(path.join(base, 'cgroup.subtree_control'), '+pids');
}

/**
 * 32-bit FNV-1a of `text` as 8 hex digits: names this daemon's cgroups apart from another state
 * directory's. Computed at every start, so it avoids loading node:crypto (see lazy-crypto.ts).
 */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}
