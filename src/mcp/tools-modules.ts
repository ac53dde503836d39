/** The module tools: load a module from the modules directory, call its functions, list them. */
import { COMMAND_SCHEMAS } from '../protocol/commands.js';
import { CallOut, ModuleOut, ModulesOut } from './outputs.js';
import { defineTool, wire, type ToolDef } from './tool.js';

/** Descriptions of the module commands' parameters. */
export const MODULE_FIELD_DOCS: Record<string, string> = {
  module_name: 'the module: a file claude_modules/<name>.ts, .js or .py in the daemon\'s modules directory',
  function_name: 'an exported function of the module',
  args: 'positional arguments (JSON values)',
  kwargs: 'arguments by parameter name',
  timeout_s: 'fail the call (CALL_TIMEOUT) after this many seconds (default 30); the module restarts',
  parent: 'the process the call is made for (default: the claude run this server serves); spawns the function makes record it',
};

/** The longest text of a function's result the model reads inline; the structured content has it all. */
const RESULT_TEXT_CHARS = 20_000;

const loadModule = defineTool({
  name: 'load_module',
  description:
    'Load (or reload, as a new version) a module from the daemon\'s modules directory (claude_modules/): TypeScript, JavaScript or Python files exporting functions; a module that fails to load keeps the previous version serving. Modules also reload by themselves when their file is saved.',
  input: COMMAND_SCHEMAS.load_module,
  output: ModuleOut,
  annotations: { title: 'Load a module', readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  fieldDocs: MODULE_FIELD_DOCS,
  async run(params, ctx) {
    const r = await wire(ctx, 'load_module', params);
    const fns = r.functions.map((f) => `${f.name}(${f.params.join(', ')})`).join(', ');
    return { structured: { ...r }, text: `loaded ${r.module} v${r.version} (${r.language}, ${r.path}): ${fns || 'no functions'}` };
  },
});

const callFunction = defineTool({
  name: 'call_function',
  description: "Call a function of a loaded module (load_module first) with JSON arguments; returns its return value as `result`. The module's code may do anything (spawn and wait for claude runs, edit files).",
  input: COMMAND_SCHEMAS.call_function,
  output: CallOut,
  // A module function may do anything, so nothing is promised about its effects.
  annotations: { title: 'Call a module function', readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  fieldDocs: MODULE_FIELD_DOCS,
  async run(params, ctx) {
    const timeout = typeof params['timeout_s'] === 'number' ? params['timeout_s'] : 30;
    // The daemon's own CALL_TIMEOUT answers first; this only guards against a lost reply.
    const result = await wire(ctx, 'call_function', params, { timeoutMs: (timeout + 30) * 1000 });
    const json = JSON.stringify(result) ?? 'null';
    const text = json.length > RESULT_TEXT_CHARS ? `${json.slice(0, RESULT_TEXT_CHARS)}... (${json.length} characters; the structured content has it whole)` : json;
    return { structured: { module: String(params['module_name']), function: String(params['function_name']), result: result ?? null }, text };
  },
});

const listModules = defineTool({
  name: 'list_modules',
  description: 'List the loaded modules: version, language, functions and their parameters, calls served, restarts, and the newest load error if the file on disk failed to load.',
  input: COMMAND_SCHEMAS.list_modules,
  output: ModulesOut,
  annotations: { title: 'List modules', readOnlyHint: true, openWorldHint: false },
  retryable: true,
  async run(params, ctx) {
    const r = await wire(ctx, 'list_modules', params);
    const lines = r.modules.map((m) => `${m.module} v${m.version} (${m.language}): ${m.functions.map((f) => `${f.name}(${f.params.join(', ')})`).join(', ')}${m.last_error !== undefined ? `\n  newest file failed to load: ${m.last_error}` : ''}`);
    return { structured: { ...r }, text: lines.length === 0 ? 'no modules loaded (load_module loads one from claude_modules/)' : lines.join('\n') };
  },
});

/** The module tools. */
export const MODULE_TOOLS: ToolDef[] = [loadModule, callFunction, listModules];
