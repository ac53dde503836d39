/**
 * Where the installed package's own files are at run time. The daemon is bundled into dist/ with
 * shared chunks under dist/chunks/, so `import.meta.url` may be one or two levels deep depending on
 * which chunk this code lands in; walking up to our package.json is the one answer that holds for
 * every layout (bundle, chunk, or tsx running src/ directly).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Files of the package the module host needs: the worker entry, the client, the Python side. */
export interface PackageFiles {
  root: string;
  /** The built worker entry (dist/daemon/modules/worker-entry.js). */
  workerEntry: string;
  /** The built module host process entry (dist/daemon/modules/host-entry.js). */
  hostEntry: string;
  /** The built client library (dist/index.js) that `import 'claude-daemon'` maps to. */
  clientEntry: string;
  /** Directory holding client.py and the Python module host. */
  pythonDir: string;
  pythonHost: string;
}

let cached: PackageFiles | undefined;

/** Finds the package root by walking up from this file to the package.json named claude-daemon. */
export function packageFiles(): PackageFiles {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && readName(pkg) === 'claude-daemon') break;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the claude-daemon package root above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  cached = {
    root: dir,
    workerEntry: path.join(dir, 'dist', 'daemon', 'modules', 'worker-entry.js'),
    hostEntry: path.join(dir, 'dist', 'daemon', 'modules', 'host-entry.js'),
    clientEntry: path.join(dir, 'dist', 'index.js'),
    pythonDir: path.join(dir, 'python'),
    pythonHost: path.join(dir, 'python', 'claude_daemon_host.py'),
  };
  return cached;
}

function readName(file: string): string | undefined {
  try {
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string }).name;
  } catch {
    return undefined;
  }
}
