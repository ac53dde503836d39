#!/usr/bin/env node
// The executable's composition root: the only file that may reach both the CLI and the daemon. The
// daemon is imported lazily, so `claude-daemon ping` never loads it.
import { main } from './cli/main.js';

main(process.argv.slice(2), { loadDaemon: () => import('./daemon/main.js') }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`claude-daemon: unexpected failure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 70;
  },
);
