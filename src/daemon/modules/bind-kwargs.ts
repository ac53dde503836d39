/**
 * `kwargs` for a TypeScript/JavaScript function, bound the way Python binds keyword arguments, so a
 * call means the same in both languages: `--kwargs '{"name": "x"}'` calls `hello(name)` with
 * `name = "x"`. JavaScript has no `**kwargs`; its idiom is an options object, so keys that name no
 * parameter go to a destructured last parameter (`{ model, effort } = {}`) or, after a rest
 * parameter (`...more`), as one last object. Anything else is refused with Python's own words.
 */

/**
 * The argument list for `fn(...result)`: `args` first, then each kwarg at its parameter's position
 * (`undefined` in the gaps, so defaults apply). `params` are the names `paramNames` read from the
 * source (`{ a, b }` for a destructured one, `...rest` for a rest one). Throws a TypeError naming
 * the offending key when a kwarg repeats a positional argument or fits no parameter.
 */
export function bindKwargs(fnName: string, params: readonly string[], args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): unknown[] {
  const out = [...args];
  const leftover: Record<string, unknown> = {};
  const leftoverKeys: string[] = [];
  for (const [key, value] of Object.entries(kwargs)) {
    const at = params.indexOf(key);
    if (at === -1) {
      leftover[key] = value;
      leftoverKeys.push(key);
      continue;
    }
    if (at < args.length) throw new TypeError(`${fnName}() got multiple values for argument '${key}' (positionally and in kwargs)`);
    put(out, at, value);
  }
  if (leftoverKeys.length === 0) return out;
  const last = params.length - 1;
  const lastParam = params[last];
  if (lastParam?.startsWith('...')) {
    out.push(...new Array<undefined>(Math.max(0, last - out.length)));
    out.push(leftover);
    return out;
  }
  if (lastParam?.startsWith('{') && out.length <= last) {
    put(out, last, leftover);
    return out;
  }
  const names = params.length > 0 ? params.join(', ') : 'none';
  const what = leftoverKeys.length === 1 ? `an unexpected keyword argument '${leftoverKeys[0]}'` : `unexpected keyword arguments ${leftoverKeys.map((k) => `'${k}'`).join(', ')}`;
  throw new TypeError(`${fnName}() got ${what} (its parameters: ${names})`);
}

function put(out: unknown[], at: number, value: unknown): void {
  while (out.length < at) out.push(undefined);
  out[at] = value;
}
