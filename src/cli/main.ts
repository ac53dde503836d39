/**
 * `claude-daemon [--socket PATH] [--json] <verb> [flags]`: finds the verb, parses its flags with
 * node's own parseArgs, runs it, and maps every failure to the documented exit code (0 ok, 1 daemon
 * error, 2 usage, 3 no daemon, 124 a wait timed out). With `--json` a failure is one JSON line on
 * stdout, `{"success": false, "code": ..., "error": ...}`, like the daemon's own error replies.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { VERSION } from '../version.js';
import { connect, type DaemonClient } from '../client/client.js';
import { ClientError, DaemonError } from '../client/errors.js';
import { printJson, processOutput, type Output } from './output.js';
import { EXIT, UsageError, type DaemonLoader, type Verb } from './verb.js';
import { VERBS } from './verbs.js';

const COMMON: NonNullable<ParseArgsConfig['options']> = {
  socket: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

/** Options given before the verb (`claude-daemon --socket S --json ping`). */
interface Globals {
  socket?: string;
  json: boolean;
  help: boolean;
  version: boolean;
}

/** Runs the CLI and returns its exit code; never calls process.exit itself. */
export async function main(argv: string[], deps: DaemonLoader, out: Output = processOutput): Promise<number> {
  let globals: Globals;
  let at: number;
  try {
    ({ globals, at } = leadingGlobals(argv));
  } catch (err) {
    return fail(out, argv.includes('--json'), 'USAGE_ERROR', `claude-daemon: ${(err as Error).message}\nusage: claude-daemon [--socket PATH] [--json] <command> [options]\n`, EXIT.usage);
  }
  const verbName = argv[at];
  const rest = argv.slice(at + 1);
  const jsonAsked = globals.json || flagsOf(rest).includes('--json');
  if (verbName === undefined) {
    if (globals.version) {
      out.stdout(`${VERSION}\n`);
      return EXIT.ok;
    }
    if (globals.help) {
      out.stdout(generalHelp());
      return EXIT.ok;
    }
    if (jsonAsked) return fail(out, true, 'USAGE_ERROR', 'claude-daemon: give a command; run `claude-daemon --help` for the list', EXIT.usage);
    out.stderr(generalHelp());
    return EXIT.usage;
  }
  if (verbName === 'help') {
    out.stdout(generalHelp());
    return EXIT.ok;
  }
  const entry = VERBS[verbName];
  if (entry === undefined) return fail(out, jsonAsked, 'USAGE_ERROR', `claude-daemon: unknown command '${verbName}'. Run \`claude-daemon --help\` for the list.\n`, EXIT.usage);
  const verb: Verb = (await entry.load()).verb;
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...COMMON, ...verb.options }, allowPositionals: verb.positionals ?? false, strict: true });
  } catch (err) {
    return usage(out, jsonAsked, verbName, verb, (err as Error).message);
  }
  if (parsed.values['help'] === true || globals.help) {
    out.stdout(verbHelp(verbName, verb));
    return EXIT.ok;
  }
  let client: DaemonClient | undefined;
  const socket = (parsed.values['socket'] as string | undefined) ?? globals.socket;
  const json = parsed.values['json'] === true || globals.json;
  try {
    return await verb.run({
      values: parsed.values,
      positionals: parsed.positionals,
      json,
      socket,
      out,
      deps,
      client: async () => (client ??= await connect({ socketPath: socket })),
    });
  } catch (err) {
    return await reportError(out, json, verbName, verb, err);
  } finally {
    client?.close();
  }
}

/**
 * The options before the verb. Only the common ones may stand there (a verb's own flags follow it),
 * and `--socket` takes its value as the next word or after `=`.
 */
function leadingGlobals(argv: string[]): { globals: Globals; at: number } {
  const globals: Globals = { json: false, help: false, version: false };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-')) break;
    if (a === '--json') globals.json = true;
    else if (a === '--help' || a === '-h') globals.help = true;
    else if (a === '--version' || a === '-V') globals.version = true;
    else if (a.startsWith('--socket=')) globals.socket = a.slice('--socket='.length);
    else if (a === '--socket') {
      const v = argv[++i];
      if (v === undefined || v.startsWith('-')) throw new UsageError('--socket takes a path, e.g. --socket /tmp/claude_daemon.sock');
      globals.socket = v;
    } else throw new UsageError(`unknown option '${a}' before the command (only --socket, --json, --help and --version go there; a command's own options follow it)`);
  }
  return { globals, at: i };
}

/** The words before `--`: only those can be options. */
function flagsOf(args: string[]): string[] {
  const end = args.indexOf('--');
  return end === -1 ? args : args.slice(0, end);
}

async function reportError(out: Output, json: boolean, verbName: string, verb: Verb, err: unknown): Promise<number> {
  if (err instanceof UsageError) return usage(out, json, verbName, verb, err.message);
  if (err instanceof DaemonError) {
    const code = err.code === 'CALL_TIMEOUT' ? EXIT.timedOut : EXIT.daemonError;
    // `request` speaks the wire's names, and --json prints what the daemon said; elsewhere the
    // message names the CLI's verbs and flags.
    if (json) return fail(out, true, err.code, err.message, code);
    // Loaded only here: the table is an error path's cost, not every `ping`'s (one module less at start).
    const { cliMessage } = await import('./wire-names.js');
    return fail(out, false, err.code, `error [${err.code}]: ${verbName === 'request' ? err.message : cliMessage(err.message)}\n`, code);
  }
  if (err instanceof ClientError) {
    return fail(out, json, err.kind, `error: ${err.message}\n`, err.kind === 'TIMEOUT' ? EXIT.timedOut : EXIT.noDaemon);
  }
  throw err;
}

function usage(out: Output, json: boolean, verbName: string, verb: Verb, message: string): number {
  return fail(out, json, 'USAGE_ERROR', `claude-daemon ${verbName}: ${message}\nusage: claude-daemon ${verb.usage}\n(see \`claude-daemon ${verbName} --help\`)\n`, EXIT.usage);
}

/**
 * Reports a failure: for people, `text` on stderr; with --json, one line on stdout shaped like the
 * daemon's error reply (`code` is the wire code, or USAGE_ERROR, NO_DAEMON, TIMEOUT, ... for
 * failures of the CLI itself), and nothing on stderr.
 */
function fail(out: Output, json: boolean, code: string, text: string, exit: number): number {
  if (json) printJson(out, { success: false, code, error: text.trimEnd().replace(/^error(?: \[[A-Z_]+\])?: /, '') });
  else out.stderr(text.endsWith('\n') ? text : `${text}\n`);
  return exit;
}

function generalHelp(): string {
  const width = Math.max(...Object.keys(VERBS).map((k) => k.length));
  const lines = Object.entries(VERBS).map(([name, v]) => `  ${name.padEnd(width)}  ${v.summary}`);
  return [
    `claude-daemon ${VERSION}: run and steer headless \`claude -p\` processes and hot-reloaded modules.`,
    '',
    'usage: claude-daemon [--socket PATH] [--json] <command> [options]',
    '',
    'commands:',
    ...lines,
    '',
    'common options (before or after the command): --socket PATH (default $CLAUDE_DAEMON_SOCKET or /tmp/claude_daemon.sock),',
    '  --json (results and errors as one JSON line), --help',
    'exit codes: 0 ok, 1 the daemon answered with an error, 2 usage error, 3 no daemon reachable,',
    '  124 a wait timed out (wait/result --timeout, a call past its timeout, request --timeout);',
    "  wait: the process's own code, 128+N for signal N, 127 it could not start",
    '',
  ].join('\n');
}

function verbHelp(name: string, verb: Verb): string {
  return [`usage: claude-daemon ${verb.usage}`, '', verb.description, ...(verb.help ? ['', ...verb.help] : []), '', 'common options: --socket PATH, --json, --help', ''].join('\n');
}
