/**
 * An MCP client from the official SDK talking over stdio to `node dist/bin.js mcp`, as Claude Code
 * does; shared by the server*.test.ts files. Each result is checked against the tool's declared
 * outputSchema here too (the SDK client checks it as well), so a test that calls a tool proves it.
 */
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { CallToolResult, Progress, Tool } from '@modelcontextprotocol/sdk/types.js';
import { BIN } from '../helpers/daemon.js';

/** A connected MCP client and what its server wrote on stderr. */
export interface McpSession {
  client: Client;
  tools: Tool[];
  /** The server's stderr (its log) so far. */
  log(): string;
  /** Errors the client saw on the transport (a non-JSON line on stdout would be one). */
  transportErrors: Error[];
  /** Calls a tool; a success is checked against the tool's outputSchema. */
  call(name: string, args?: Record<string, unknown>, onprogress?: (p: Progress) => void): Promise<CallToolResult>;
  /** Calls a tool that must succeed and returns its structured content. */
  ok<T = Record<string, unknown>>(name: string, args?: Record<string, unknown>): Promise<T>;
  /** Calls a tool that must fail and returns its text (`CODE: message`). */
  fails(name: string, args?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

const validator = new AjvJsonSchemaValidator();

/** Starts `claude-daemon mcp ARGS` and connects to it (initialize + tools/list). */
export async function startMcp(args: string[], env: Record<string, string> = {}): Promise<McpSession> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, 'mcp', ...args],
    env: { ...(process.env as Record<string, string>), ...env },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const transportErrors: Error[] = [];
  const client = new Client({ name: 'claude-daemon-test', version: '0' });
  client.onerror = (e) => transportErrors.push(e);
  await client.connect(transport);
  const { tools } = await client.listTools();
  const byName = new Map(tools.map((t) => [t.name, t]));
  const call = async (name: string, a: Record<string, unknown> = {}, onprogress?: (p: Progress) => void): Promise<CallToolResult> => {
    const r = (await client.callTool({ name, arguments: a }, undefined, onprogress ? { onprogress, resetTimeoutOnProgress: true, timeout: 120_000 } : { timeout: 120_000 })) as CallToolResult;
    const tool = byName.get(name);
    assert.ok(Array.isArray(r.content) && r.content[0]?.type === 'text', `${name}: a text content first`);
    if (r.isError !== true && tool?.outputSchema !== undefined) {
      assert.ok(r.structuredContent, `${name}: structuredContent`);
      const v = validator.getValidator(tool.outputSchema)(r.structuredContent);
      assert.ok(v.valid, `${name}: structuredContent matches outputSchema: ${v.errorMessage}\n${JSON.stringify(r.structuredContent)}`);
    }
    return r;
  };
  return {
    client,
    tools,
    log: () => stderr,
    transportErrors,
    call,
    async ok(name, a) {
      const r = await call(name, a);
      assert.notEqual(r.isError, true, `${name} ${JSON.stringify(a)} failed: ${textOf(r)}`);
      return r.structuredContent as never;
    },
    async fails(name, a) {
      const r = await call(name, a);
      assert.equal(r.isError, true, `${name} ${JSON.stringify(a)} should fail, got: ${textOf(r)}`);
      return textOf(r);
    },
    close: () => client.close(),
  };
}

/** The text content of a result. */
export function textOf(r: CallToolResult): string {
  return r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
}
