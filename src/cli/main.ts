/**
 * `claude-daemon <verb> [flags]`: finds the verb, parses its flags with node's own parseArgs, runs
 * it, and maps every failure to the documented exit code (0 ok, 1 daemon error, 2 usage, 3 no daemon).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { VERSION } from '../version.js';
import { connect, type DaemonClient } from '../client/client.js';
import { ClientError, DaemonError } from '../client/errors.js';
import { processOutput, type Output } from './output.js';
import { EXIT, UsageError, type DaemonLoader, type Verb } from './verb.js';
import { VERBS } from './verbs.js';

const COMMON: NonNullable<ParseArgsConfig['options']> = {
  socket: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

/** Runs the CLI and returns its exit code; never calls process.exit itself. */
export async function main(argv: string[], deps: DaemonLoader, out: Output = processOutput): Promise<number> {
  const [verbName, ...rest] = argv;
  if (verbName === undefined) {
    out.stderr(generalHelp());
    return EXIT.usage;
  }
  if (verbName === '--help' || verbName === '-h' || verbName === 'help') {
    out.stdout(generalHelp());
    return EXIT.ok;
  }
  if (verbName === '--version' || verbName === '-V') {
    out.stdout(`${VERSION}\n`);
    return EXIT.ok;
  }
  const entry = VERBS[verbName];
  if (entry === undefined) {
    out.stderr(`claude-daemon: unknown command '${verbName}'. Run \`claude-daemon --help\` for the list.\n`);
    return EXIT.usage;
  }
  const verb: Verb = (await entry.load()).verb;
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...COMMON, ...verb.options }, allowPositionals: verb.positionals ?? false, strict: true });
  } catch (err) {
    return usage(out, verbName, verb, (err as Error).message);
  }
  if (parsed.values['help'] === true) {
    out.stdout(verbHelp(verbName, verb));
    return EXIT.ok;
  }
  let client: DaemonClient | undefined;
  const socket = parsed.values['socket'] as string | undefined;
  try {
    return await verb.run({
      values: parsed.values,
      positionals: parsed.positionals,
      json: parsed.values['json'] === true,
      socket,
      out,
      deps,
      client: async () => (client ??= await connect({ socketPath: socket })),
    });
  } catch (err) {
    return reportError(out, verbName, verb, err);
  } finally {
    client?.close();
  }
}

function reportError(out: Output, verbName: string, verb: Verb, err: unknown): number {
  if (err instanceof UsageError) return usage(out, verbName, verb, err.message);
  if (err instanceof DaemonError) {
    out.stderr(`error [${err.code}]: ${err.message}\n`);
    return EXIT.daemonError;
  }
  if (err instanceof ClientError) {
    out.stderr(`error: ${err.message}\n`);
    return err.kind === 'TIMEOUT' ? EXIT.daemonError : EXIT.noDaemon;
  }
  throw err;
}

function usage(out: Output, verbName: string, verb: Verb, message: string): number {
  out.stderr(`claude-daemon ${verbName}: ${message}\nusage: claude-daemon ${verb.usage}\n(see \`claude-daemon ${verbName} --help\`)\n`);
  return EXIT.usage;
}

function generalHelp(): string {
  const width = Math.max(...Object.keys(VERBS).map((k) => k.length));
  const lines = Object.entries(VERBS).map(([name, v]) => `  ${name.padEnd(width)}  ${v.summary}`);
  return [
    `claude-daemon ${VERSION}: run and steer headless \`claude -p\` processes and hot-reloaded modules.`,
    '',
    'usage: claude-daemon <command> [options]',
    '',
    'commands:',
    ...lines,
    '',
    'common options: --socket PATH (default $CLAUDE_DAEMON_SOCKET or /tmp/claude_daemon.sock), --json, --help',
    'exit codes: 0 ok, 1 the daemon answered with an error, 2 usage error, 3 no daemon reachable',
    '',
  ].join('\n');
}

function verbHelp(name: string, verb: Verb): string {
  return [`usage: claude-daemon ${verb.usage}`, '', verb.description, ...(verb.help ? ['', ...verb.help] : []), '', 'common options: --socket PATH, --json, --help', ''].join('\n');
}
