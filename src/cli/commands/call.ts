import { printJson } from '../output.js';
import { UsageError, type Verb } from '../verb.js';

/** `call MODULE FUNCTION [ARGS...]`: each arg is JSON when it parses as JSON, else a string. */
export const verb: Verb = {
  usage: "call MODULE FUNCTION [ARGS...] [--kwargs '{\"NAME\": VALUE, ...}'] [--timeout S] [--json]",
  description: 'Calls a function of a module (loading the module first if needed) and prints its return value: a string as is, anything else as JSON.',
  help: [
    '  ARGS              each is parsed as JSON when it is valid JSON (42, true, [1,2], {"a":1}, "\\"quoted\\""), else passed as a string',
    '  --kwargs JSON     arguments by parameter name, as a JSON object: {"name": "x"} calls hello(name="x"). Python binds them as',
    '                    keyword arguments; TypeScript/JavaScript likewise, by the names in the source; keys naming no parameter go',
    '                    to a destructured last parameter ({ model } = {}) or after a rest one (...more), else are refused',
    '  --timeout S       fail with CALL_TIMEOUT (exit code 124) after S seconds (default 30; the module is then restarted);',
    '                    code that waits on claude runs needs more, e.g. --timeout 600',
    '  --json            print the return value as JSON even when it is a string',
    '',
    'examples: claude-daemon call example hello Claude',
    '          claude-daemon call example hello --kwargs \'{"name": "Claude"}\'',
    '',
    'When an older version answers because the newest save failed to load, a warning line goes to stderr.',
    'use -- before arguments that start with a dash: claude-daemon call m f -- -5',
  ],
  options: { kwargs: { type: 'string' }, timeout: { type: 'string' } },
  positionals: true,
  async run(ctx) {
    const [moduleName, functionName, ...rawArgs] = ctx.positionals;
    if (moduleName === undefined || functionName === undefined) throw new UsageError('give a module and a function name');
    const args = rawArgs.map(parseArg);
    const options: { kwargs?: Record<string, unknown>; timeoutS?: number; onWarning: (w: string) => void } = {
      onWarning: (w) => ctx.out.stderr(`warning: ${w.split('\n')[0]} (\`claude-daemon modules\` shows the error)\n`),
    };
    const kw = ctx.values['kwargs'];
    if (typeof kw === 'string') options.kwargs = parseKwargs(kw);
    const t = ctx.values['timeout'];
    if (typeof t === 'string') {
      const s = Number(t);
      if (!(s > 0)) throw new UsageError(`--timeout takes a positive number of seconds, not '${t}'`);
      options.timeoutS = s;
    }
    const result = await (await ctx.client()).callFunction(moduleName, functionName, args, options);
    if (typeof result === 'string' && !ctx.json) ctx.out.stdout(result.endsWith('\n') ? result : result + '\n');
    else printJson(ctx.out, result);
    return 0;
  },
};

/** JSON when it is valid JSON, else the text itself: `42` is a number, `Claude` a string. */
function parseArg(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function parseKwargs(text: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new UsageError(`--kwargs must be a JSON object, e.g. '{"name": "x"}'`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsageError(`--kwargs must be a JSON object, e.g. '{"name": "x"}'`);
  return v as Record<string, unknown>;
}
