/**
 * The `claude` verb's flags turned into `spawn_claude` parameters. Kept apart from the verb so the
 * mapping (one flag, one typed parameter; the rest after `--` as `extra_args`) reads in one place,
 * and mistakes a shell user makes are caught here as usage errors (exit 2) naming the flag, before
 * anything reaches the daemon.
 */
import path from 'node:path';
import type { ParamsIn } from '../protocol/commands.js';
import { isJsonObjectText, PERMISSION_MODES } from '../protocol/claude-options.js';
import { numberFlag } from './process-format.js';
import { UsageError } from './verb.js';
import { scheduleParams } from './schedule-flags.js';

type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;
type Params = ParamsIn<'spawn_claude'>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `positionals` are the prompt, then what came after `--`. claude's only positional is the prompt
 * (which the daemon places itself), so pass-through arguments must start with a flag: a second
 * bare word is far more likely an unquoted prompt than a claude argument.
 */
export function spawnParams(values: Values, positionals: string[]): Params {
  const ask = values['ask-permissions'] === true;
  // --ask-permissions implies a live session (claude asks on its stream-json input).
  const interactive = values['interactive'] === true || ask;
  const [prompt, ...extra] = positionals;
  if (!interactive && (prompt === undefined || prompt === '')) throw new UsageError('give the PROMPT (quote it)');
  if (prompt === '') throw new UsageError('the PROMPT is empty: leave it out of an --interactive session, or give one');
  if (extra.length > 0 && !extra[0]!.startsWith('-')) {
    throw new UsageError(`give exactly one PROMPT (quote it: '${positionals.join(' ')}'); arguments for claude go after \`--\` and start with a flag, e.g. \`-- --add-dir DIR\``);
  }
  const str = (name: string): string | undefined => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  const list = (name: string): string[] | undefined => {
    const v = values[name];
    if (!Array.isArray(v)) return undefined;
    const items = v.map(String);
    if (items.some((t) => t.trim() === '')) throw new UsageError(`--${name} takes a non-empty value`);
    return items;
  };
  const p: Params = { ...(prompt !== undefined ? { prompt } : {}), cwd: path.resolve(str('cwd') ?? process.cwd()), ...scheduleParams(values) };
  if (interactive) p.interactive = true;
  const idle = numberFlag(values['idle-timeout'], '--idle-timeout', { min: 0.001 });
  if (idle !== undefined && !interactive) throw new UsageError('--idle-timeout applies to --interactive sessions only');
  if (idle !== undefined) p.idle_timeout_s = idle;
  if (ask) p.permissions = 'ask';
  const permTimeout = numberFlag(values['permission-timeout'], '--permission-timeout', { min: 0.001 });
  if (permTimeout !== undefined && !ask) throw new UsageError('--permission-timeout applies with --ask-permissions only');
  if (permTimeout !== undefined) p.permission_timeout_s = permTimeout;
  for (const [flag, key] of [['auto-allow', 'auto_allow'], ['auto-deny', 'auto_deny']] as const) {
    const rules = list(flag);
    if (rules !== undefined && !ask) throw new UsageError(`--${flag} applies with --ask-permissions only`);
    if (rules !== undefined) p[key] = rules;
  }
  const set = <K extends keyof Params>(key: K, value: Params[K] | undefined): void => {
    if (value !== undefined) p[key] = value;
  };
  set('model', str('model'));
  set('process_id', str('id'));
  set('name', str('name'));
  set('env', envFlag(list('env')));
  set('stall_timeout_s', numberFlag(values['stall'], '--stall', { min: 0.001 }));
  set('timeout_s', numberFlag(values['timeout'], '--timeout', { min: 0.001 }));
  set('max_turns', numberFlag(values['max-turns'], '--max-turns', { int: true, min: 1 }));
  const budget = numberFlag(values['max-budget-usd'], '--max-budget-usd');
  if (budget === 0) throw new UsageError('--max-budget-usd takes an amount of dollars above 0, e.g. 0.50');
  set('max_budget_usd', budget);
  set('allowed_tools', list('allowed-tools'));
  set('disallowed_tools', list('disallowed-tools'));
  set('permission_mode', permissionMode(str('permission-mode')));
  set('system_prompt', str('system-prompt'));
  set('append_system_prompt', str('append-system-prompt'));
  set('resume', str('resume'));
  const session = str('session-id');
  if (session !== undefined && !UUID.test(session)) throw new UsageError(`--session-id takes a UUID (e.g. from \`uuidgen\`), not '${session}'`);
  set('session_id', session);
  set('mcp_config', list('mcp-config')?.map(mcpConfig));
  const schema = str('json-schema');
  if (schema !== undefined && !isJsonObjectText(schema)) throw new UsageError(`--json-schema takes the JSON text of a schema object, e.g. '{"type":"object"}'; to use a file: --json-schema "$(cat schema.json)"`);
  set('json_schema', schema);
  if (values['ignore-hold'] === true) p.ignore_hold = true;
  set('limit_resume_prompt', str('limit-resume-prompt'));
  if (extra.length > 0) p.extra_args = extra;
  return p;
}

function envFlag(items: string[] | undefined): Record<string, string> | undefined {
  if (items === undefined) return undefined;
  const env: Record<string, string> = {};
  for (const kv of items) {
    const eq = kv.indexOf('=');
    if (eq < 1) throw new UsageError(`--env takes KEY=VALUE, not '${kv}'`);
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return env;
}

function permissionMode(v: string | undefined): Params['permission_mode'] {
  if (v === undefined) return undefined;
  const mode = PERMISSION_MODES.find((m) => m === v);
  if (mode === undefined) throw new UsageError(`--permission-mode takes one of ${PERMISSION_MODES.join(', ')}; not '${v}'`);
  return mode;
}

/** JSON text stays as is; a file path is made absolute, since the run's cwd may differ from ours. */
function mcpConfig(v: string): string {
  return v.trimStart().startsWith('{') ? v : path.resolve(v);
}
