/**
 * Keeps V8's optimizing compiler (TurboFan) out of the daemon's start. Loading the daemon's ~16 files
 * and preparing its state directory calls `path.resolve`/`path.join` a few hundred times, which
 * makes Node's own `normalizeString` "hot" by a small margin (3 profiler ticks; a 4th is never
 * reached), and its one TurboFan compilation maps ~3 MiB of the compiler's machine code into the
 * idle daemon's resident memory for nothing (measured: 55.9 → 53.4 MiB). During the start V8 waits
 * for several times the usual number of ticks. Best effort, measured by the benches, not tested:
 * what is hot at start depends on the code loaded before the hold is set and on the length of the
 * paths handled (a checkout in a deeper directory compiled `getPathFromURLPosix` anyway); afterwards the default applies again, so code that is really
 * hot under load is optimized exactly as before. A `--ticks-before-optimization` given by the user
 * (node flags or NODE_OPTIONS) is left alone.
 */

const FLAG = '--ticks-before-optimization';
/** V8's default (node 20-24). */
const DEFAULT_TICKS = 3;
const START_TICKS = 20;

/** Raises the tiering threshold for the start; call the returned function once the daemon serves. */
export function holdOptimizingCompilerDuringStart(): () => void {
  if (process.execArgv.some((a) => a.startsWith(FLAG)) || (process.env['NODE_OPTIONS'] ?? '').includes(FLAG)) return () => undefined;
  const v8 = process.getBuiltinModule('node:v8');
  v8.setFlagsFromString(`${FLAG}=${START_TICKS}`);
  return () => v8.setFlagsFromString(`${FLAG}=${DEFAULT_TICKS}`);
}
