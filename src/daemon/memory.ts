/**
 * The daemon's memory as seen from outside: leak tests and operators ask `ping {"stats": true}` for
 * these figures. A full GC on request is what turns "heap in use" into a leak signal (garbage not
 * yet collected is not a leak), and it must work without restarting the daemon under `--expose-gc`.
 */
import type { MemoryStats } from '../protocol/schemas/core.js';

let gcFn: (() => void) | undefined;

/**
 * Runs a full, synchronous garbage collection. The flag is set at run time and the `gc` function
 * taken from a fresh context, so the daemon needs no special node flags; the cost (a few ms of
 * pause) is paid only when a client asks.
 */
export function collectGarbage(): void {
  if (gcFn === undefined) {
    // Loaded here, not at start: only leak tests and operators ever ask, and an idle daemon
    // should not carry node:v8 and node:vm.
    process.getBuiltinModule('node:v8').setFlagsFromString('--expose-gc');
    gcFn = process.getBuiltinModule('node:vm').runInNewContext('gc') as () => void;
  }
  gcFn();
}

/** Current memory figures in the wire's snake_case. */
export function memoryStats(): MemoryStats {
  const m = process.memoryUsage();
  return { rss: m.rss, heap_used: m.heapUsed, heap_total: m.heapTotal, external: m.external, array_buffers: m.arrayBuffers };
}
