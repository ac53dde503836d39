/** The process tools: one wire command each, with the wire's own parameter schema. */
import path from 'node:path';
import { COMMAND_SCHEMAS } from '../protocol/commands.js';
import { attemptFileSuffix, KillOneParams } from '../protocol/schemas/processes.js';
import { ListOut, ReadOut, RecordOut, RemoveOut } from './outputs.js';
import { listText, recordText } from './summaries.js';
import { defineTool, wire, type ToolDef } from './tool.js';

/** Descriptions of the process commands' parameters (the schemas carry the types and limits). */
export const PROCESS_FIELD_DOCS: Record<string, string> = {
  process_id: 'the process id (1-64 of A-Z a-z 0-9 . _ -); on spawn, optional: the daemon picks one',
  cmd: 'argv: the program and its arguments, run without a shell (use ["sh", "-c", "..."] for one)',
  cwd: 'working directory (default: the daemon\'s)',
  retry: 'start a failed attempt again: {max, backoff_s (1), backoff_factor (2), max_backoff_s (300), on: [exit codes, "api_error", "stall", "timeout"]}; the record keeps attempts',
  attempt: 'records with retry: read this attempt\'s output (1 = the first; default the latest)',
  env: "variables laid over the daemon's environment",
  stdin: 'text written to the command\'s stdin (then closed)',
  timeout_s: 'end the process (SIGTERM, then SIGKILL) after this many seconds',
  name: 'a label for people',
  status: 'only records of this status',
  stream: 'stdout (default) or stderr',
  offset: 'byte offset to read from (next_offset of the previous read); give this or tail_lines',
  max_bytes: 'read at most this many bytes (default 65536)',
  tail_lines: 'read the last N lines instead of from an offset',
  encoding: 'utf8 (default) or base64 for exact bytes',
  signal: 'signal to send first (default SIGTERM; SIGINT first for claude runs), then SIGKILL after grace_s',
  grace_s: 'seconds between the signal and SIGKILL (default 5)',
};

const spawnProcess = defineTool({
  name: 'spawn_process',
  description:
    'Start a command under the daemon, in the background. Returns at once with its record (process_id, status, pid). Output goes to files: read it with read_output; block until it ends with wait (no polling needed). It keeps running if you, this session or the daemon go away.',
  input: COMMAND_SCHEMAS.spawn_process,
  output: RecordOut,
  annotations: { title: 'Start a process', readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  fieldDocs: PROCESS_FIELD_DOCS,
  async run(params, ctx) {
    const r = await wire(ctx, 'spawn_process', params);
    return { structured: { ...r }, text: `started ${recordText(r)}\nNext: wait {"process_ids": ["${r.process_id}"]}, then read_output.` };
  },
});

const listProcesses = defineTool({
  name: 'list_processes',
  description: 'List the processes the daemon knows (oldest first): id, status, exit code or signal, and for claude runs their state, turns and cost.',
  input: COMMAND_SCHEMAS.list_processes,
  output: ListOut,
  annotations: { title: 'List processes', readOnlyHint: true, openWorldHint: false },
  fieldDocs: PROCESS_FIELD_DOCS,
  retryable: true,
  async run(params, ctx) {
    const r = await wire(ctx, 'list_processes', params);
    return { structured: { ...r }, text: listText(r.processes, r.totals) };
  },
});

const processInfo = defineTool({
  name: 'process_info',
  description: "One process's record: status, pid, exit code or signal, times, output sizes, and (claude runs) the `claude` object with state, turns, cost, session and last text.",
  input: COMMAND_SCHEMAS.process_info,
  output: RecordOut,
  annotations: { title: 'Show a process', readOnlyHint: true, openWorldHint: false },
  fieldDocs: PROCESS_FIELD_DOCS,
  retryable: true,
  async run(params, ctx) {
    const r = await wire(ctx, 'process_info', params);
    return { structured: { ...r }, text: recordText(r) };
  },
});

const readOutput = defineTool({
  name: 'read_output',
  description:
    "Read a process's captured stdout or stderr, a page at a time: from `offset` (then continue at the reply's next_offset until eof) or the last `tail_lines` lines. Also gives the output file's absolute path, which you may Read directly.",
  input: COMMAND_SCHEMAS.read_output,
  output: ReadOut,
  annotations: { title: 'Read output', readOnlyHint: true, openWorldHint: false },
  fieldDocs: PROCESS_FIELD_DOCS,
  retryable: true,
  async run(params, ctx) {
    const r = await wire(ctx, 'read_output', params);
    const stream = params['stream'] === 'stderr' ? 'stderr' : 'stdout';
    const id = String(params['process_id']);
    let file = path.join((await ctx.daemon.info()).home, 'processes', id, stream);
    // An earlier attempt of a retried record (read_output `attempt`): its file was moved to `stdout.N`.
    if (typeof params['attempt'] === 'number') file += attemptFileSuffix(await wire(ctx, 'process_info', { process_id: id }), params['attempt']) ?? '';
    const where = `[${stream} of ${id}, bytes ${r.offset}-${r.next_offset}${r.eof ? ', end of output' : `; more may follow: read_output with offset ${r.next_offset}`}; file ${file}]`;
    const body = r.data.length === 0 ? '(no output in this range)' : r.data;
    return { structured: { process_id: id, stream, ...r, path: file }, text: `${body}${body.endsWith('\n') ? '' : '\n'}${where}` };
  },
});

const killProcess = defineTool({
  name: 'kill_process',
  description:
    'Stop a process and its whole process tree: the signal (default SIGTERM; claude runs get SIGINT first so they end cleanly), then SIGKILL after grace_s. Returns the record once it has ended. Killing an ended process is not an error.',
  // One process, one record back (the wire's `process_ids` batch form has another reply shape).
  input: KillOneParams(),
  output: RecordOut,
  annotations: { title: 'Stop a process', readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  fieldDocs: PROCESS_FIELD_DOCS,
  async run(params, ctx) {
    const r = await wire(ctx, 'kill_process', params);
    if ('processes' in r) throw new Error('kill_process: expected one record');
    return { structured: { ...r }, text: recordText(r) };
  },
});

const removeProcess = defineTool({
  name: 'remove_process',
  description: 'Forget an ended process and delete its output files. A running or queued one is refused (PROCESS_RUNNING): kill_process or wait first.',
  input: COMMAND_SCHEMAS.remove_process,
  output: RemoveOut,
  annotations: { title: 'Remove a process', readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  fieldDocs: PROCESS_FIELD_DOCS,
  async run(params, ctx) {
    const r = await wire(ctx, 'remove_process', params);
    return { structured: { ...r }, text: `removed ${r.process_id} and its output` };
  },
});

/** The process tools, in the order tools/list shows them. */
export const PROCESS_TOOLS: ToolDef[] = [spawnProcess, listProcesses, processInfo, readOutput, killProcess, removeProcess];

