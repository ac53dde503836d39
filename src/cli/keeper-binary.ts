/**
 * Finding and stopping the keeper that `start --detach` runs (the C wrapper's `--keep` mode, see
 * native/keep.c). The CLI never imports daemon code, so this is its own small copy of the lookup.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The compiled wrapper, whose `--keep` mode is the keeper: `CLAUDE_DAEMON_WRAP`, else
 * `claude-daemon-wrap` in dist/ next to (or above) this bundle. Undefined without a C compiler.
 */
export function findKeeper(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const explicit = env['CLAUDE_DAEMON_WRAP'];
  if (explicit) return fs.existsSync(explicit) ? path.resolve(explicit) : undefined;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    for (const candidate of [path.join(dir, 'claude-daemon-wrap'), path.join(dir, 'dist', 'claude-daemon-wrap')]) {
      if (fs.existsSync(candidate)) return candidate;
    }
    dir = path.dirname(dir);
  }
  return undefined;
}

/**
 * SIGTERMs a keeper and the daemon it is running (its child, found in /proc before the keeper goes):
 * a start that never answered must leave neither behind. (A SIGTERM to the keeper alone would leave
 * its daemon running, unkept, by design.)
 */
export function stopKeeperAndDaemon(keeperPid: number): void {
  let children: number[] = [];
  try {
    children = fs.readFileSync(`/proc/${keeperPid}/task/${keeperPid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    // Gone, or no /proc: only the keeper is signalled.
  }
  for (const pid of [keeperPid, ...children]) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
}
