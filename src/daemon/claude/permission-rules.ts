/**
 * `auto_allow` / `auto_deny` rules of a `permissions: "ask"` run, in claude's own rule syntax, so a
 * parent can pass the rules it would put in claude's settings: `Tool` matches every call of the
 * tool; `Tool(pattern)` matches when the tool's main input matches the pattern, `*` standing for
 * any characters (spaces and `/` included) and a trailing `:*` (claude's older prefix form) for
 * "this, alone or followed by a space and more". The main input is Bash's `command`, the file tools'
 * `file_path` (Read, Write, Edit, MultiEdit, NotebookEdit: `notebook_path` too), Glob's and Grep's
 * `pattern`, WebFetch's `url`, WebSearch's `query`; a tool with none matches only a bare `Tool` rule.
 * Compound Bash commands: see `allowMatch` and `denyMatch`.
 */

const MAIN_INPUT: Readonly<Record<string, readonly string[]>> = {
  Bash: ['command'],
  Read: ['file_path'],
  Write: ['file_path'],
  Edit: ['file_path'],
  MultiEdit: ['file_path'],
  NotebookEdit: ['notebook_path', 'file_path'],
  Glob: ['pattern'],
  Grep: ['pattern'],
  WebFetch: ['url'],
  WebSearch: ['query'],
};

/** True when `rule` matches a call of `tool` with `input`. */
export function ruleMatches(rule: string, tool: string, input: Record<string, unknown>): boolean {
  const open = rule.indexOf('(');
  const name = open === -1 ? rule : rule.slice(0, open);
  if (!globToRegExp(name).test(tool)) return false;
  if (open === -1) return true;
  const pattern = rule.slice(open + 1, -1);
  const key = (MAIN_INPUT[tool] ?? []).find((k) => typeof input[k] === 'string');
  if (key === undefined) return false;
  const value = input[key] as string;
  if (pattern.endsWith(':*')) {
    const prefix = pattern.slice(0, -2);
    return value === prefix || value.startsWith(`${prefix} `);
  }
  return globToRegExp(pattern).test(value);
}

/**
 * The first `auto_allow` rule allowing the call, or undefined. A compound Bash command (`a && b`,
 * `a; b`, `a | b`) is allowed by `Bash(pattern)` rules only when each part matches one, and never
 * when it has a substitution (`$(`, backquote) or a redirection (`>`, `<`): a prefix rule must not
 * let `git status && rm -rf x` through. A bare `Bash` rule allows every command.
 */
export function allowMatch(rules: readonly string[] | undefined, tool: string, input: Record<string, unknown>): string | undefined {
  if (rules === undefined) return undefined;
  const command = input['command'];
  if (tool !== 'Bash' || typeof command !== 'string') return rules.find((r) => ruleMatches(r, tool, input));
  const bare = rules.find((r) => r.indexOf('(') === -1 && ruleMatches(r, tool, input));
  if (bare !== undefined) return bare;
  if (/\$\(|`|[<>]/.test(command)) return undefined;
  let first: string | undefined;
  for (const part of bashParts(command)) {
    const r = rules.find((x) => ruleMatches(x, tool, { command: part }));
    if (r === undefined) return undefined;
    first ??= r;
  }
  return first;
}

/** The first `auto_deny` rule matching the call, or undefined; a Bash rule matches a compound command if it matches the whole or any part. */
export function denyMatch(rules: readonly string[] | undefined, tool: string, input: Record<string, unknown>): string | undefined {
  if (rules === undefined) return undefined;
  const command = input['command'];
  const whole = rules.find((r) => ruleMatches(r, tool, input));
  if (whole !== undefined || tool !== 'Bash' || typeof command !== 'string') return whole;
  for (const part of bashParts(command)) {
    const r = rules.find((x) => ruleMatches(x, tool, { command: part }));
    if (r !== undefined) return r;
  }
  return undefined;
}

/** A shell command's simple commands: split at `&&`, `||`, `;`, `|`, `&` and newlines, trimmed. */
function bashParts(command: string): string[] {
  return command.split(/&&|\|\||[;|&\n]/).map((p) => p.trim()).filter((p) => p !== '');
}

function globToRegExp(glob: string): RegExp {
  const body = glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${body}$`, 's');
}
