/**
 * What one MCP tool is: a name, an input schema (usually the wire command's own zod schema, so a
 * parameter added to the protocol appears in the tool without an edit here), an output schema, the
 * annotations Claude Code reads, and a `run` that calls the daemon and shapes its answer as
 * structured content plus a short text for the model.
 */
import { z } from 'zod';
import type { RequestOptions } from '../client/client.js';
import { withParent } from '../client/lineage.js';
import type { CommandName, ResultOf } from '../protocol/index.js';
import type { DaemonLink } from './connection.js';

/** The MCP tool annotations (hints a client may use to decide on parallel calls and permissions). */
export interface ToolAnnotations {
  title?: string;
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

/** What a tool's `run` gets besides its validated parameters. */
export interface ToolContext {
  daemon: DaemonLink;
  /** Fires when the client cancels the call (or the server shuts down). */
  signal: AbortSignal;
  /**
   * Gives what the periodic progress notification says while this call runs (asked at each tick;
   * notifications are only sent when the request carried a progressToken). Without one the
   * notification says how long the call has been running.
   */
  setProgressSource(source: () => Promise<Progress>): void;
}

/** One progress notification's content: `progress` only ever grows (it counts what has finished). */
export interface Progress {
  message: string;
  progress?: number;
  total?: number;
}

/** A tool's answer: `structured` must match the tool's output schema; `text` is what the model reads. */
export interface Shaped {
  structured: Record<string, unknown>;
  text: string;
}

/** One tool, as the server lists and runs it. */
export interface ToolDef {
  name: string;
  description: string;
  input: z.ZodType;
  output: z.ZodType;
  annotations: ToolAnnotations;
  /** Descriptions of input fields, merged into the JSON Schema derived from `input` (fields it lacks are skipped). */
  fieldDocs?: Record<string, string>;
  /**
   * Safe to repeat on a fresh connection when the daemon went away mid-call (reads and waits):
   * the server then reconnects and runs it once more instead of failing it.
   */
  retryable?: boolean;
  /** Gets the parameters as the model sent them (already checked against `input`). */
  run(params: Record<string, unknown>, ctx: ToolContext): Promise<Shaped>;
}

/** Identity, typed: keeps each tool file's definitions checked against ToolDef. */
export function defineTool(def: ToolDef): ToolDef {
  return def;
}

/** JSON Schema (draft-07, which every MCP client's validator knows) of a zod schema, for tools/list. */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output', docs: Record<string, string> = {}): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { target: 'draft-7', io, unrepresentable: 'any' }) as Record<string, unknown>;
  delete json['$schema'];
  const props = json['properties'] as Record<string, Record<string, unknown>> | undefined;
  if (props !== undefined) {
    for (const [field, text] of Object.entries(docs)) {
      const p = props[field];
      if (p !== undefined && p['description'] === undefined) p['description'] = text;
    }
  }
  // MCP requires an object schema for both; a tool with no parameters still says so.
  json['type'] = 'object';
  return json;
}

/** Commands that carry lineage: the server runs inside a claude run, whose id is their default `parent`. */
const WITH_PARENT: ReadonlySet<string> = new Set(['spawn_process', 'spawn_claude', 'call_function']);

/**
 * Sends a wire command with the parameters as the model gave them (the daemon applies its own
 * defaults and checks them again), `parent` defaulted as the client libraries do, and types the answer.
 */
export async function wire<K extends CommandName>(ctx: ToolContext, command: K, params: Record<string, unknown>, opts?: RequestOptions): Promise<ResultOf<K>> {
  const client = await ctx.daemon.client();
  const p = WITH_PARENT.has(command) ? withParent(params as { parent?: string | null }) : params;
  return (await client.request(command as string, p, opts)) as ResultOf<K>;
}
