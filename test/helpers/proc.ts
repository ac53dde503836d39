/** Reading the process table from /proc, for tests that check zombies, groups and trees. */
import fs from 'node:fs';

/** One process's identity fields from /proc/PID/stat. */
export interface ProcStat {
  pid: number;
  state: string;
  ppid: number;
  pgrp: number;
}

/** Every process visible now; processes that vanish while being read are skipped. */
export function listProcs(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.push({ pid: Number(name), state: f[0] ?? '', ppid: Number(f[1]), pgrp: Number(f[2]) });
    } catch {
      // gone
    }
  }
  return out;
}

/**
 * Zombies left by the daemon or by its launcher (the wrapper in `--server` mode, the parent of
 * every wrapper): either leaking one would pile up a zombie per spawn.
 */
export function zombiesUnder(daemonPid: number): number[] {
  const procs = listProcs();
  const isLauncher = (pid: number): boolean => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').endsWith('--server\0');
    } catch {
      return false; // gone
    }
  };
  const launchers = procs.filter((p) => p.ppid === daemonPid && isLauncher(p.pid)).map((p) => p.pid);
  return procs.filter((p) => (p.ppid === daemonPid || launchers.includes(p.ppid)) && p.state === 'Z').map((p) => p.pid);
}
