/**
 * Recognises a `claude` print-mode run with stream-json output from its argv, whoever spawned it
 * (`spawn_claude` or a plain `spawn_process`), so every such run gets a parsed `claude` object: an
 * agent that builds its own command line should not lose observability for it.
 */
import path from 'node:path';

/** Basenames the CLI ships under: the npm shim `claude` and the native `claude.exe` it links to. */
const CLAUDE_NAMES = new Set(['claude', 'claude.exe']);

/**
 * True when `cmd` runs claude (argv[0] named `claude`/`claude.exe`, or equal to `claudeBin`) with
 * `-p`/`--print` and `--output-format stream-json` (either spelling). Text after `--` is the
 * prompt, never a flag, so a prompt that mentions `-p` cannot make a run look like print mode.
 */
export function isClaudeStreamCommand(cmd: readonly string[], claudeBin?: string): boolean {
  const bin = cmd[0];
  if (bin === undefined) return false;
  if (!CLAUDE_NAMES.has(path.basename(bin)) && !(claudeBin !== undefined && path.resolve(bin) === path.resolve(claudeBin))) return false;
  let print = false;
  let stream = false;
  for (let i = 1; i < cmd.length; i++) {
    const a = cmd[i]!;
    if (a === '--') break;
    if (a === '-p' || a === '--print') print = true;
    else if (a === '--output-format') stream = cmd[i + 1] === 'stream-json' || stream;
    else if (a === '--output-format=stream-json') stream = true;
    else if (/^-[a-zA-Z]*p[a-zA-Z]*$/.test(a) && !a.startsWith('--')) print = true; // bundled short flags, e.g. -cp
  }
  return print && stream;
}
