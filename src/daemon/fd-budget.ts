/**
 * How many connections the daemon's descriptor table can take. Every connection holds a descriptor
 * for its life; if connections were allowed to take them all, every file the daemon needs (a
 * record, an output file, a launcher pipe) would fail with EMFILE. So a reserve is kept for that
 * work: a connection accepted while fewer than `reserve` descriptors are free is told
 * RESOURCE_EXHAUSTED and closed at once, and the daemon serves on. Counting open descriptors reads
 * /proc/self/fd, so it is done only when the connection count alone comes near the limit.
 *
 * Node raises its soft RLIMIT_NOFILE to the hard limit at start-up (node.cc, PlatformInit), so the
 * daemon already runs with the most descriptors it may have; `limit` is that figure.
 */
import fs from 'node:fs';

/** See the file comment. */
export class FdBudget {
  /** The soft descriptor limit (Infinity where unknown). */
  readonly limit: number;
  /** Descriptors kept free for files, pipes and children. */
  readonly reserve: number;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.limit = softLimit();
    const explicit = Number(env['CLAUDE_DAEMON_FD_RESERVE']);
    this.reserve = env['CLAUDE_DAEMON_FD_RESERVE'] !== undefined && Number.isInteger(explicit) && explicit >= 0
      ? explicit
      : Number.isFinite(this.limit) ? Math.max(16, Math.min(256, Math.floor(this.limit / 16))) : 0;
  }

  /**
   * True when a just-accepted connection (its descriptor already counted) may stay: at least
   * `reserve` descriptors are still free. `connections` is how many are open, this one included.
   */
  admits(connections: number): boolean {
    if (this.reserve === 0 || !Number.isFinite(this.limit)) return true;
    // Far from the limit: connections alone cannot be the problem (the rest of the daemon holds a
    // few dozen descriptors), so skip the count.
    if (this.limit - connections > this.reserve + 512) return true;
    return this.limit - openDescriptors() >= this.reserve;
  }
}

/** The soft "Max open files" of this process, from /proc/self/limits. */
function softLimit(): number {
  try {
    const m = /^Max open files\s+(\S+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    return m?.[1] === undefined || m[1] === 'unlimited' ? Infinity : Number(m[1]);
  } catch {
    return Infinity;
  }
}

/** Open descriptors of this process (the directory read itself holds one more for a moment). */
function openDescriptors(): number {
  try {
    return fs.readdirSync('/proc/self/fd').length - 1;
  } catch {
    return Infinity; // Could not even open the directory: no descriptor is free.
  }
}
