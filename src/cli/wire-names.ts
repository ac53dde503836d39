/**
 * The daemon's messages name wire commands and parameters (`list_processes`, `process_id`), which
 * is right for a program on the socket and wrong for a person at a shell: this table turns them into
 * the CLI's own verbs and flags before the CLI prints them. `request` (which speaks wire names) and
 * `--json` (which prints what the daemon said) bypass it.
 */

/** Wire command to the CLI verb that sends it. */
export const VERB_OF_COMMAND: Readonly<Record<string, string>> = {
  spawn_process: 'spawn',
  list_processes: 'list',
  process_info: 'info',
  read_output: 'logs',
  wait_process: 'wait',
  kill_process: 'kill',
  remove_process: 'rm',
  clean: 'clean',
  spawn_claude: 'claude',
  claude_result: 'result',
  send_message: 'send',
  interrupt: 'interrupt',
  close_input: 'close-input',
  answer_permission: 'answer',
  load_module: 'load',
  call_function: 'call',
  list_modules: 'modules',
  unload_module: 'unload',
};

/** Wire parameters that have one CLI flag whatever the verb. */
const FLAG_OF_PARAM: Readonly<Record<string, string>> = {
  process_id: '--id',
  timeout_s: '--timeout S',
  kill_processes: '--kill-processes',
  stall_timeout_s: '--stall S',
  idle_timeout_s: '--idle-timeout S',
  permission_timeout_s: '--permission-timeout S',
};

const COMMANDS = new RegExp(`\`?\\b(${Object.keys(VERB_OF_COMMAND).join('|')})\\b\`?`, 'g');
const PARAMS = new RegExp(`\`?\\b(${Object.keys(FLAG_OF_PARAM).join('|')})\\b\`?`, 'g');

/** A daemon message with wire names replaced: `list_processes shows...` becomes `` `claude-daemon list` shows... ``. */
export function cliMessage(message: string): string {
  return message
    .replace(COMMANDS, (_m, name: string) => `\`claude-daemon ${VERB_OF_COMMAND[name]}\``)
    .replace(PARAMS, (_m, name: string) => FLAG_OF_PARAM[name]!);
}

/** A record's `reason` for people: `kill_process (SIGTERM)` becomes `claude-daemon kill (SIGTERM)`. */
export function cliReason(reason: string): string {
  return reason.replace(COMMANDS, (_m, name: string) => `claude-daemon ${VERB_OF_COMMAND[name]}`).replace(PARAMS, (_m, name: string) => FLAG_OF_PARAM[name]!);
}
