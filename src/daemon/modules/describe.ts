/**
 * Describing a module's functions and errors for people: parameter names from the function's source
 * text, and an error with its stack trimmed to the frames that matter.
 */

/** Parameter names as written (`a`, `b = 1` gives `b`, `{x, y}` stays as written, `...rest`). */
export function paramNames(fn: (...a: never[]) => unknown): string[] {
  let src: string;
  try {
    src = Function.prototype.toString.call(fn);
  } catch {
    return [];
  }
  const arrowSingle = /^(?:async\s+)?([A-Za-z_$][\w$]*)\s*=>/.exec(src);
  if (arrowSingle) return [arrowSingle[1]!];
  const open = src.indexOf('(');
  if (open === -1) return [];
  let depth = 0;
  let cur = '';
  const out: string[] = [];
  for (let i = open + 1; i < src.length; i++) {
    const ch = src[i]!;
    if (depth === 0 && ch === ')') break;
    if ('([{'.includes(ch)) depth++;
    if (')]}'.includes(ch)) depth--;
    if (depth === 0 && ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out
    .map((p) => p.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '').trim())
    .filter((p) => p !== '')
    .map((p) => (p.startsWith('{') || p.startsWith('[') ? p.replace(/\s+/g, ' ') : p.split('=')[0]!.trim()));
}

/**
 * `Name: message` plus the stack frames, without the module host's own frames. Total: a thrown
 * value whose properties or `toString` throw (a Proxy around an Error, a hostile object) still
 * gets the best text available, never an exception of its own (that would crash the worker).
 */
export function describeError(err: unknown): string {
  try {
    if (!(err instanceof Error)) return `thrown value: ${safeString(err)}`;
    const stack = err.stack ?? `${err.name}: ${err.message}`;
    return String(stack)
      .split('\n')
      .filter((line) => !/worker-entry\.js|node:internal/.test(line))
      .join('\n');
  } catch {
    let kind = 'object';
    try {
      kind = Object.prototype.toString.call(err);
    } catch {
      // A revoked Proxy: nothing can be read from it.
    }
    return `thrown value that cannot be printed (${kind})`;
  }
}

/** The first stack location inside the module's own files, as `file:line:column`. */
export function firstLocation(err: unknown, files: readonly string[]): string | undefined {
  const stack = err instanceof Error ? (err.stack ?? '') : '';
  for (const m of stack.matchAll(/(?:\(|at )(?:file:\/\/)?(\/[^():\s]+):(\d+):(\d+)/g)) {
    if (files.length === 0 || files.includes(m[1]!)) return `${m[1]}:${m[2]}:${m[3]}`;
  }
  return undefined;
}

function safeString(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v); // may throw too: describeError catches it
  }
}
