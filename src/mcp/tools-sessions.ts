/** The live-session tools: more turns for an interactive claude run, stop its turn, end it. */
import { COMMAND_SCHEMAS } from '../protocol/commands.js';
import { CloseInputOut, InterruptOut, SendMessageOut } from './outputs.js';
import { defineTool, wire, type ToolDef } from './tool.js';

/** Descriptions of the session tools' parameters. */
const SESSION_FIELD_DOCS: Record<string, string> = {
  process_id: 'the live session (a spawn_claude run started with interactive: true)',
  text: 'the user message of the next turn',
};

const sendMessage = defineTool({
  name: 'send_message',
  description:
    'Send one more user turn to a live claude session (spawn_claude with interactive: true). Returns at once with the turn number; a message sent while a turn runs is queued and runs after it, in order. Then claude_result {process_id, turn, wait: true} for that turn\'s answer. A run started without interactive is refused (NOT_INTERACTIVE).',
  input: COMMAND_SCHEMAS.send_message,
  output: SendMessageOut,
  annotations: { title: 'Message a live claude session', readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  fieldDocs: SESSION_FIELD_DOCS,
  async run(params, ctx) {
    const r = await wire(ctx, 'send_message', params);
    return {
      structured: { ...r },
      text: `${r.process_id}: turn ${r.turn} ${r.queued ? 'queued behind the running turn' : 'started'}\nNext: claude_result {"process_id": "${r.process_id}", "turn": ${r.turn}, "wait": true}.`,
    };
  },
});

const interrupt = defineTool({
  name: 'interrupt',
  description:
    "Stop a live claude session's running turn (the session stays and takes the next queued or sent message). Not an error when no turn runs (interrupted: false). To end the run itself use close_input or kill_process.",
  input: COMMAND_SCHEMAS.interrupt,
  output: InterruptOut,
  annotations: { title: 'Interrupt a claude turn', readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  fieldDocs: SESSION_FIELD_DOCS,
  async run(params, ctx) {
    const r = await wire(ctx, 'interrupt', params);
    return { structured: { ...r }, text: r.interrupted ? `${r.process_id}: asked turn ${r.turn} to stop` : `${r.process_id}: no turn was running; nothing sent` };
  },
});

const closeInput = defineTool({
  name: 'close_input',
  description:
    'End a live claude session once its queued turns have run (its process then exits; wait for it). No more send_message after this (SESSION_CLOSED). Closing an already closed session is not an error (closed_now: false).',
  input: COMMAND_SCHEMAS.close_input,
  output: CloseInputOut,
  annotations: { title: 'End a live claude session', readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  fieldDocs: SESSION_FIELD_DOCS,
  async run(params, ctx) {
    const r = await wire(ctx, 'close_input', params);
    const how = r.closed_now ? 'input closed' : 'input was already closed';
    return { structured: { ...r }, text: `${r.process_id}: ${how}; ${r.pending_turns} turn${r.pending_turns === 1 ? '' : 's'} still to run\nNext: wait {"process_ids": ["${r.process_id}"]}.` };
  },
});

/** The live-session tools. */
export const SESSION_TOOLS: ToolDef[] = [sendMessage, interrupt, closeInput];
