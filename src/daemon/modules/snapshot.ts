/**
 * A module version's immutable code. For TypeScript/JavaScript, esbuild bundles the module and its
 * local imports into one file (full TypeScript, an inline source map so stacks show the module's own
 * lines), and the metafile says which local files to watch. npm packages and the package's own
 * client stay external but are resolved here, from the module's directory, to absolute URLs: the
 * snapshot can then live anywhere and still import exactly what the module would. For Python the
 * snapshot is the file itself plus the hash of what the interpreter loaded.
 */
import fs from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { build as esbuildBuild, Plugin } from 'esbuild';
import type { ModuleLanguage } from '../../protocol/schemas/modules.js';
import { CommandError } from '../command-error.js';
import { sha256Hex } from '../lazy-crypto.js';
import type { ModuleFile } from './names.js';

/** One version's code, ready to start in a runtime. */
export interface Snapshot {
  name: string;
  language: ModuleLanguage;
  /** The module's own source file. */
  source: string;
  /** JS: the bundled code; Python: the module file's text as read at build (written to a file when a runtime starts). */
  code?: string;
  /** Content hash: equal hashes mean a save changed nothing and no reload is needed. */
  hash: string;
  /** Local source files this version was built from (the watcher reloads on any of them). */
  inputs: string[];
}

interface EsbuildModule {
  build: typeof esbuildBuild;
}
let esbuildPromise: Promise<EsbuildModule> | undefined;

/** Builds the snapshot of a module file; a compile error is MODULE_LOAD_FAILED with file:line:column. */
export async function buildSnapshot(name: string, file: ModuleFile, clientEntry: string, snapshotDir: string): Promise<Snapshot> {
  if (file.language === 'python') return pythonSnapshot(name, file);
  esbuildPromise ??= import('esbuild');
  const { build } = await esbuildPromise;
  const dir = path.dirname(file.path);
  let result;
  try {
    result = await build({
      entryPoints: [file.path],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: 'inline',
      // Stacks need only the mappings; the sources themselves are on disk beside the module.
      sourcesContent: false,
      // Sources in the map are relative to the output's directory: the one the snapshot is written to.
      outfile: path.join(snapshotDir, `${name}.mjs`),
      metafile: true,
      logLevel: 'silent',
      absWorkingDir: dir,
      plugins: [externalsPlugin(clientEntry)],
    });
  } catch (err) {
    throw new CommandError('MODULE_LOAD_FAILED', `module '${name}' failed to compile: ${describeBuildFailure(err, dir)}`);
  }
  const code = result.outputFiles?.[0]?.text ?? '';
  const inputs = Object.keys(result.metafile?.inputs ?? {})
    .map((p) => path.resolve(dir, p))
    .filter((p) => !p.split(path.sep).includes('node_modules'));
  return { name, language: file.language, source: file.path, code, hash: sha(code), inputs };
}

/** Python: the hash covers the file and every local file it imported last time (filled in later). */
export function pythonSnapshot(name: string, file: ModuleFile, inputs: string[] = [file.path], code?: string): Snapshot {
  let main: string;
  try {
    // `code` is the text a version was started from: its snapshot keeps exactly that, never a later save.
    main = code ?? fs.readFileSync(file.path, 'utf8');
  } catch (err) {
    throw new CommandError('MODULE_NOT_FOUND', `module '${name}': cannot read ${file.path}: ${(err as Error).message}`);
  }
  const text = [main, ...inputs.filter((p) => p !== file.path).map((p) => `${p}\0${readOrEmpty(p)}`)].join('\0');
  return { name, language: 'python', source: file.path, code: main, hash: sha(text), inputs };
}

function readOrEmpty(p: string): string {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

function sha(text: string): string {
  return sha256Hex(text, 16);
}

/**
 * Bare imports: `claude-daemon` maps to this package's client; node builtins stay as they are;
 * anything else is resolved from the importing file and kept external by absolute URL.
 */
function externalsPlugin(clientEntry: string): Plugin {
  return {
    name: 'claude-daemon-externals',
    setup(b) {
      b.onResolve({ filter: /^claude-daemon$/ }, () => ({ path: pathToFileURL(clientEntry).href, external: true }));
      b.onResolve({ filter: /^[^./]/ }, async (args) => {
        if ((args.pluginData as { inner?: boolean } | undefined)?.inner) return undefined;
        if (isBuiltin(args.path)) return { path: args.path, external: true };
        const r = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { inner: true } });
        if (r.errors.length > 0) return { errors: r.errors };
        return { path: pathToFileURL(r.path).href, external: true };
      });
    },
  };
}

interface BuildMessage {
  text: string;
  location?: { file: string; line: number; column: number; lineText?: string } | null;
}

/** esbuild's first error as `file:line:column: message` (column 1-based, like editors show it). */
function describeBuildFailure(err: unknown, dir: string): string {
  const errors = (err as { errors?: BuildMessage[] }).errors;
  const first = errors?.[0];
  if (!first) return err instanceof Error ? err.message : String(err);
  const loc = first.location;
  const where = loc ? `${path.resolve(dir, loc.file)}:${loc.line}:${loc.column + 1}: ` : '';
  const more = errors!.length > 1 ? ` (and ${errors!.length - 1} more error${errors!.length > 2 ? 's' : ''})` : '';
  return `${where}${first.text}${more}`;
}
