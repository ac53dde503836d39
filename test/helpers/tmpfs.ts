/**
 * A small tmpfs for disk-full tests: mounted (as root) on a directory, filled to the last byte with
 * one file, freed again. Tests skip, and say so, where mounting is not allowed.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** A mounted tmpfs. */
export interface Tmpfs {
  dir: string;
  /** Writes `fill` in 64 KiB pieces until the file system refuses (ENOSPC). */
  fill(): void;
  /** Deletes the filler: space is back. */
  free(): void;
  /** Unmounts (lazily, so a process still inside cannot make it fail) and removes the directory. */
  unmount(): void;
}

/** Mounts a tmpfs of `size` (e.g. "1m") on `dir` (created); undefined when that is not allowed. */
export function mountTmpfs(dir: string, size = '1m'): Tmpfs | undefined {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    fs.rmdirSync(dir);
    return undefined;
  }
  const filler = path.join(dir, 'fill');
  return {
    dir,
    fill() {
      const fd = fs.openSync(filler, 'a');
      const chunk = Buffer.alloc(64 * 1024, 1);
      try {
        for (;;) fs.writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      } finally {
        fs.closeSync(fd);
      }
      // The last pages: a tmpfs may accept a short write after refusing a long one.
      const one = fs.openSync(filler, 'a');
      try {
        for (;;) fs.writeSync(one, Buffer.alloc(512, 1));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      } finally {
        fs.closeSync(one);
      }
    },
    free() {
      fs.rmSync(filler, { force: true });
    },
    unmount() {
      try {
        execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Pids of live (non-zombie) processes carrying `marker`: as one argument, or in their environment
 * as `CD_MARK=<marker>` (inherited by every descendant, so a whole tree is found).
 */
export function procsWithArg(marker: string): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      const env = argv.includes(marker) ? [] : fs.readFileSync(`/proc/${name}/environ`, 'utf8').split('\0');
      if (!argv.includes(marker) && !env.includes(`CD_MARK=${marker}`)) continue;
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'latin1');
      if (stat[stat.lastIndexOf(')') + 2] !== 'Z') out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}
