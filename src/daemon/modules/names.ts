/**
 * From a module name to its one file. The name is checked against the allowed pattern before the
 * file system is touched, so `../x` or `/etc/passwd` can never name a path outside the directory.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MODULE_NAME_PATTERN, type ModuleLanguage } from '../../protocol/schemas/modules.js';
import { CommandError } from '../command-error.js';

/** File extensions a module may have, and the language each one means. */
export const MODULE_EXTENSIONS: ReadonlyArray<readonly [string, ModuleLanguage]> = [
  ['.ts', 'typescript'],
  ['.mts', 'typescript'],
  ['.js', 'javascript'],
  ['.mjs', 'javascript'],
  ['.py', 'python'],
];

/** A module's source file and the language it runs in. */
export interface ModuleFile {
  path: string;
  language: ModuleLanguage;
}

/** Throws INVALID_MODULE_NAME for anything but `[A-Za-z_][A-Za-z0-9_-]*`. */
export function checkModuleName(name: string): void {
  if (!MODULE_NAME_PATTERN.test(name)) {
    throw new CommandError('INVALID_MODULE_NAME', `invalid module name ${JSON.stringify(name.slice(0, 100))}: a module name is letters, digits, '_' and '-', not starting with a digit or '-' (it is the file name without its extension)`);
  }
}

/** Finds NAME.{ts,mts,js,mjs,py}; none is MODULE_NOT_FOUND, several is MODULE_AMBIGUOUS. */
export function resolveModuleFile(dir: string, name: string): ModuleFile {
  checkModuleName(name);
  const found: ModuleFile[] = [];
  for (const [ext, language] of MODULE_EXTENSIONS) {
    const p = path.join(dir, name + ext);
    try {
      if (fs.statSync(p).isFile()) found.push({ path: p, language });
    } catch {
      // Not there.
    }
  }
  if (found.length === 0) {
    const exts = MODULE_EXTENSIONS.map(([e]) => e).join(', ');
    throw new CommandError('MODULE_NOT_FOUND', `no module '${name}': none of ${name}{${exts}} exists in ${dir}`);
  }
  if (found.length > 1) {
    throw new CommandError('MODULE_AMBIGUOUS', `module '${name}' is defined by ${found.length} files: ${found.map((f) => f.path).join(', ')}; keep one of them`);
  }
  return found[0]!;
}

/** The module name a file in the modules directory defines, or undefined if it defines none. */
export function moduleNameOfFile(dir: string, file: string): string | undefined {
  if (path.dirname(file) !== dir) return undefined;
  const base = path.basename(file);
  for (const [ext] of MODULE_EXTENSIONS) {
    if (base.endsWith(ext)) {
      const name = base.slice(0, -ext.length);
      return MODULE_NAME_PATTERN.test(name) ? name : undefined;
    }
  }
  return undefined;
}
