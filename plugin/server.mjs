#!/usr/bin/env node
// Starts `claude-daemon mcp` for the plugin's .mcp.json, from wherever the package is:
//   1. $CLAUDE_DAEMON_BIN (a claude-daemon bin.js or executable), for a custom install;
//   2. ../dist/bin.js beside this folder (the plugin used from the installed package or a checkout:
//      `claude --plugin-dir node_modules/claude-daemon/plugin`): imported in this process, no extra node;
//   3. `claude-daemon` on PATH (a global install);
//   4. `npx -y claude-daemon mcp` (a plugin copied alone, e.g. installed from a marketplace).
// Nothing but the server writes to stdout (it is the MCP channel); this launcher only writes to stderr.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const extra = process.argv.slice(2);

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

function run(file, args) {
  const child = spawn(file, args, { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('error', (err) => {
    process.stderr.write(`claude-daemon plugin: cannot run ${file}: ${err.message}; install the package (npm install -g claude-daemon) or set CLAUDE_DAEMON_BIN\n`);
    process.exit(127);
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
}

const explicit = process.env.CLAUDE_DAEMON_BIN;
const local = path.resolve(here, '..', 'dist', 'bin.js');
if (explicit && !/\.[cm]?js$/.test(explicit)) {
  run(explicit, ['mcp', ...extra]);
} else {
  const bin = explicit || (fs.existsSync(local) ? local : undefined);
  if (bin) {
    // dist/bin.js runs its CLI on import with process.argv.slice(2).
    process.argv = [process.argv[0], bin, 'mcp', ...extra];
    await import(pathToFileURL(bin).href);
  } else {
    const global = onPath('claude-daemon');
    if (global) run(global, ['mcp', ...extra]);
    else run(onPath('npx') ?? 'npx', ['-y', 'claude-daemon', 'mcp', ...extra]);
  }
}
