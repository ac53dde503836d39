/**
 * The one registry of wire error codes. Codes are stable API: clients branch on them, so a code is
 * never renamed or reused, only added. `test/core/protocol-docs.test.ts` checks this table against
 * docs/protocol.md in both directions, so a code cannot exist undocumented or be documented but gone.
 */
export const ERROR_CODES = {
  INVALID_JSON: 'The request line is not valid JSON.',
  INVALID_REQUEST: 'The request is not a JSON object with a string `command`.',
  UNKNOWN_COMMAND: 'No command of that name; the message lists the known ones.',
  INVALID_PARAMS: 'A parameter is missing or has the wrong type; the message names the field.',
  REQUEST_TOO_LARGE: 'The request line exceeds the size limit; the connection is closed after this reply.',
  REPLY_TOO_LARGE: 'The reply would exceed the 8 MiB one whole reply may have (a module function\'s result, a claude run\'s text); nothing was sent but this error.',
  SHUTTING_DOWN: 'The daemon is shutting down and no longer takes this request.',
  INTERNAL_ERROR: 'A bug in the daemon; the request failed but the daemon keeps serving.',
  PROCESS_EXISTS: 'A process with that `process_id` is already known.',
  PROCESS_NOT_FOUND: 'No process with that `process_id`.',
  PROCESS_RUNNING: 'The process is still running; kill or wait for it first.',
  PROCESS_HAS_DESCENDANTS: 'The process has queued or running descendants (records naming it as `parent`); end them first, or pass `cascade: true`.',
  SPAWN_FAILED: 'The command could not be started (not found, not executable, bad cwd); the record stays with status `failed`.',
  CLAUDE_NOT_FOUND: "No `claude` binary in the daemon's environment (its PATH, or CLAUDE_BIN): restart the daemon with CLAUDE_BIN set, pass CLAUDE_BIN in the request's env, or install @anthropic-ai/claude-code.",
  SESSION_BUSY: 'Another running process already uses that claude session id.',
  NOT_A_CLAUDE_RUN: 'The process is not a `claude -p --output-format stream-json` run.',
  INVALID_MODULE_NAME: 'The module name is not `[A-Za-z_][A-Za-z0-9_-]*`.',
  MODULE_NOT_FOUND: 'No module file of that name in the modules directory.',
  MODULE_AMBIGUOUS: 'More than one file defines that module name.',
  MODULE_LOAD_FAILED: 'The module failed to compile or threw while loading; the message has file:line:column.',
  MODULE_NOT_LOADED: 'The module is not loaded.',
  FUNCTION_NOT_FOUND: 'The module exports no function of that name; the message lists the exported ones.',
  FUNCTION_ERROR: 'The function threw; the message carries its error and stack.',
  RESULT_NOT_SERIALIZABLE: 'The function returned a value that is not JSON.',
  CALL_TIMEOUT: 'The call did not finish within `timeout_s`; the module was restarted from its last good version.',
  MODULE_CRASHED: 'The module\'s worker or interpreter died during the call (out of memory, exit); it was restarted.',
  MODULE_BUSY: 'The module already has the most calls in flight one module may have (1,000); retry once some finish.',
  STORAGE_FULL: 'The state directory\'s file system is full (or over quota): what the command had to write was not written; free space and retry.',
  RESOURCE_EXHAUSTED: 'The daemon ran out of file descriptors (or the system did): the command had no effect; retry once load drops.',
  STATE_IO_FAILED: 'Reading or writing a file in the state directory failed (EIO, EROFS, EACCES...); the message names the file and the error.',
  UNKNOWN_DEPENDENCY: 'An id in `after` names no process the daemon knows (nor one removed since it started); nothing was started or kept.',
  NOT_INTERACTIVE: 'The claude run is not a live session (spawned without `interactive: true`): it takes no messages, interrupts or turns.',
  SESSION_CLOSED: 'The live session takes no more turns: its input was closed (`close_input`, idle timeout) or its process ended.',
  PERMISSION_NOT_FOUND: 'The run has no pending permission prompt with that `request_id` (already answered, timed out, withdrawn, or the run was not spawned with `permissions: "ask"`).',
} as const;

/** A stable wire error code; the union is derived from the registry so the two never drift. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Lets the daemon and client check a string from the wire without a cast. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}
