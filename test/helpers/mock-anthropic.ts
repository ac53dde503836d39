/**
 * A local stand-in for the Anthropic Messages API, so the real `claude` CLI runs in tests with no
 * network. Plain node:http, no dependencies. The reply is scripted by markers in the prompt text
 * (the latest user text the request carries), so one server serves every case of a test file:
 *
 * - default: streams `MOCK REPLY: <prompt>`.
 * - `MOCK_500`: answers HTTP 500 (an `api_error`).
 * - `MOCK_401`: answers HTTP 401 (an `authentication_error`, as for a bad API key).
 * - `MOCK_429`: answers HTTP 429 (a `rate_limit_error`, with `retry-after: 1`).
 * - `MOCK_500_ONCE`: the first request with this prompt gets the 500, later ones (claude's own
 *   retries, with CLAUDE_CODE_MAX_RETRIES > 0) the reply the other markers choose.
 * - `MOCK_TOOL:<shell command>|`: first answers a Bash `tool_use` running the command; once the
 *   request carries the tool_result, streams `MOCK REPLY: tool said <result>`.
 * - `MOCK_STRUCTURED:<json>|`: first answers a `StructuredOutput` tool_use with that JSON as its
 *   input (the tool claude adds for `--json-schema`); once the tool_result is back, a text reply.
 * - `MOCK_SLOW:<ms>`: streams the default reply in 10 deltas spread over that many milliseconds.
 * - `MOCK_HANG`: starts the message, sends one delta, then never finishes (until `close()`).
 * - `MOCK_RECALL`: replies with how many user turns the conversation holds (for resume tests).
 * - a marker registered with `mock.script(marker, steps)`: a scripted model across turns (see
 *   `ScriptStep`); step N answers the request that carries N earlier assistant turns.
 *
 * Every request is recorded (method, path, headers, parsed body, the prompt it matched).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** One request the mock received. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: MessagesBody | undefined;
  /** The prompt text the reply was chosen from ('' for non-messages requests). */
  prompt: string;
}

/** The parts of a Messages API request body the mock reads. */
export interface MessagesBody {
  model?: string;
  stream?: boolean;
  messages?: Array<{ role: string; content: string | ContentBlock[] }>;
  /** The tools the CLI offers the model (built-in and MCP ones, e.g. `mcp__NAME__TOOL`). */
  tools?: Array<{ name: string } & Record<string, unknown>>;
}

/** What a script step sees of the request it answers. */
export interface ScriptRequest {
  body: MessagesBody;
  /** The prompt text the script was matched by. */
  prompt: string;
  /** Which step this is (0 for the first request of the conversation). */
  step: number;
  /** Names of the tools the request offers the model. */
  tools: string[];
  /** Text of every tool_result in the conversation so far, oldest first. */
  toolResults: Array<{ text: string; isError: boolean }>;
  /** The latest tool_result's text (undefined on the first turn). */
  lastToolResult: string | undefined;
}

/** A content block a script step answers with. */
export type ScriptBlock = { type: 'text'; text: string } | { type: 'tool_use'; name: string; input: object };

/**
 * One turn of a scripted model: a function of the request (so later steps can use the tool
 * results of earlier ones) returning the assistant's content. A string is a final text reply;
 * blocks with a `tool_use` end the turn with stop_reason `tool_use`.
 */
export type ScriptStep = (req: ScriptRequest) => string | ScriptBlock[];

type ContentBlock = { type: string; text?: string; content?: unknown; tool_use_id?: string } & Record<string, unknown>;

/** A running mock. */
export interface MockAnthropic {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Requests to /v1/messages whose prompt contains `marker`. */
  messagesMatching(marker: string): RecordedRequest[];
  /** Stops the server and removes the scratch directories `offlineClaudeEnv` made for it. */
  close(): Promise<void>;
  /** Registers a directory for removal by `close()`. */
  removeOnClose(dir: string): void;
  /**
   * Subscription-style usage limits: with a limit set, every Messages reply carries the unified
   * rate-limit headers (`anthropic-ratelimit-unified-*`), and until `rejectUntilMs` each request is
   * answered 429 with status `rejected` (claude then reports "You've hit your session limit").
   * `null` turns the headers off again. Read by the CLI only under subscription auth (see
   * `subscriptionClaudeEnv`).
   */
  setUsageLimit(limit: UsageLimit | null): void;
  /**
   * Scripts the model for every conversation whose prompt contains `marker`: the request with N
   * earlier assistant turns gets `steps[N]` (past the end: a text reply saying the script ran out).
   * Checked before the built-in markers; registering a marker again replaces its script.
   */
  script(marker: string, steps: ScriptStep[]): void;
}

/** A usage limit the mock enforces (see `MockAnthropic.setUsageLimit`). */
export interface UsageLimit {
  /** Requests before this time (ms since the epoch) are rejected; later ones are allowed. */
  rejectUntilMs: number;
  /** The reset time the headers report, in epoch seconds (default: `rejectUntilMs` rounded up). */
  resetsAt?: number;
  /** The window that is exhausted (default `five_hour`). */
  claim?: string;
  /** Utilisation reported on allowed replies, 0-1 (default 0.5). */
  utilization?: number;
  /**
   * Also send `anthropic-ratelimit-unified-5h-surpassed-threshold` on allowed replies: claude then
   * reports status `allowed_warning` with the utilisation (it reports none otherwise).
   */
  surpassedThreshold?: number;
}

/** Starts the mock on 127.0.0.1 on a free port. */
export async function startMockAnthropic(): Promise<MockAnthropic> {
  const requests: RecordedRequest[] = [];
  const scratch: string[] = [];
  const scripts = new Map<string, ScriptStep[]>();
  let seq = 0;
  let limit: UsageLimit | null = null;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: MessagesBody | undefined;
      try {
        body = chunks.length > 0 ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as MessagesBody) : undefined;
      } catch {
        body = undefined;
      }
      const url = req.url ?? '/';
      const isMessages = req.method === 'POST' && url.startsWith('/v1/messages') && !url.startsWith('/v1/messages/count_tokens');
      const prompt = isMessages && body ? latestUserText(body) : '';
      requests.push({ method: req.method ?? '', path: url, headers: req.headers, body, prompt });
      if (!isMessages) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(req.method === 'HEAD' ? undefined : '{}');
        return;
      }
      const earlier = requests.filter((r) => r.body !== undefined && r.prompt === prompt).length - 1;
      if (limit !== null && limitReply(limit, res, ++seq)) return;
      const scripted = [...scripts].find(([marker]) => prompt.includes(marker));
      if (scripted) return runScript(scripted[1], body ?? {}, prompt, ++seq, res);
      answer(body ?? {}, prompt, ++seq, res, earlier);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    messagesMatching: (marker) => requests.filter((r) => r.body !== undefined && r.prompt.includes(marker)),
    removeOnClose: (dir) => void scratch.push(dir),
    setUsageLimit: (l) => {
      limit = l;
    },
    script: (marker, steps) => void scripts.set(marker, steps),
    close: async () => {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      for (const dir of scratch.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The text of the last user message that has text (tool_result turns carry the original prompt earlier). */
function latestUserText(body: MessagesBody): string {
  const msgs = body.messages ?? [];
  for (let i = msgs.length - 1; i >= 0; i--) {
    const m = msgs[i]!;
    if (m.role !== 'user') continue;
    const text = textOf(m.content);
    if (text !== '') return text;
  }
  return '';
}

/** Text blocks of a message, minus the CLI's injected <system-reminder> blocks. */
function textOf(content: string | ContentBlock[]): string {
  if (typeof content === 'string') return content;
  return content
    .filter((b) => b.type === 'text' && typeof b.text === 'string' && !b.text.startsWith('<system-reminder>'))
    .map((b) => b.text as string)
    .join('\n')
    .trim();
}

/** The tool_result text of the last user message, if it is a tool result turn. */
function lastToolResult(body: MessagesBody): string | undefined {
  const last = body.messages?.at(-1);
  if (!last || last.role !== 'user' || typeof last.content === 'string') return undefined;
  const block = last.content.find((b) => b.type === 'tool_result');
  if (!block) return undefined;
  return toolResultText(block.content);
}

/** Text of a tool_result block's content (a string or text blocks). */
function toolResultText(c: unknown): string {
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return (c as ContentBlock[]).map((b) => b.text ?? '').join('');
  return '';
}

/** Answers one request of a scripted conversation with the step its turn count selects. */
function runScript(steps: ScriptStep[], body: MessagesBody, prompt: string, seq: number, res: http.ServerResponse): void {
  const msgs = body.messages ?? [];
  const step = msgs.filter((m) => m.role === 'assistant').length;
  const toolResults: ScriptRequest['toolResults'] = [];
  for (const m of msgs) {
    if (m.role !== 'user' || typeof m.content === 'string') continue;
    for (const b of m.content) if (b.type === 'tool_result') toolResults.push({ text: toolResultText(b.content), isError: b['is_error'] === true });
  }
  const req: ScriptRequest = { body, prompt, step, tools: (body.tools ?? []).map((t) => t.name), toolResults, lastToolResult: lastToolResult(body) };
  let reply: string | ScriptBlock[];
  try {
    const fn = steps[step];
    reply = fn ? fn(req) : `MOCK SCRIPT: no step ${step} (the script has ${steps.length})`;
  } catch (err) {
    reply = `MOCK SCRIPT: step ${step} threw: ${String(err)}`;
  }
  streamBlocks(res, body.model ?? 'claude-mock', seq, typeof reply === 'string' ? [{ type: 'text', text: reply }] : reply);
}

/** Streams an assistant message of several text and tool_use blocks. */
function streamBlocks(res: http.ServerResponse, model: string, seq: number, blocks: ScriptBlock[]): void {
  startMessage(res, model, seq);
  blocks.forEach((b, index) => {
    if (b.type === 'text') {
      sse(res, 'content_block_start', { index, content_block: { type: 'text', text: '' } });
      sse(res, 'content_block_delta', { index, delta: { type: 'text_delta', text: b.text } });
    } else {
      sse(res, 'content_block_start', { index, content_block: { type: 'tool_use', id: `toolu_mock_${seq}_${index}`, name: b.name, input: {} } });
      sse(res, 'content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(b.input) } });
    }
    sse(res, 'content_block_stop', { index });
  });
  endMessage(res, blocks.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn', 20);
}

function answer(body: MessagesBody, prompt: string, seq: number, res: http.ServerResponse, earlier: number): void {
  const model = body.model ?? 'claude-mock';
  if (prompt.includes('MOCK_500_ONCE')) {
    if (earlier === 0) return apiError(res, seq, 500);
  } else {
    const failure = /MOCK_(500|401|429)/.exec(prompt);
    if (failure) return apiError(res, seq, Number(failure[1]));
  }
  const tool = /MOCK_TOOL:([^|]*)\|/.exec(prompt);
  if (tool) {
    const result = lastToolResult(body);
    if (result === undefined) return streamToolUse(res, model, seq, 'Bash', { command: tool[1]!.trim(), description: 'mock tool call' });
    return streamText(res, model, seq, `MOCK REPLY: tool said ${result}`, 0, false);
  }
  const structured = /MOCK_STRUCTURED:(\{.*?\})\|/.exec(prompt);
  if (structured) {
    if (lastToolResult(body) === undefined) return streamToolUse(res, model, seq, 'StructuredOutput', JSON.parse(structured[1]!) as object);
    return streamText(res, model, seq, 'MOCK REPLY: structured output given', 0, false);
  }
  if (prompt.includes('MOCK_RECALL')) {
    const turns = (body.messages ?? []).filter((m) => m.role === 'user' && textOf(m.content) !== '').length;
    return streamText(res, model, seq, `MOCK REPLY: recall ${turns} user turns`, 0, false);
  }
  const slow = /MOCK_SLOW:(\d+)/.exec(prompt);
  return streamText(res, model, seq, `MOCK REPLY: ${prompt}`, slow ? Number(slow[1]) : 0, prompt.includes('MOCK_HANG'));
}

/** The Messages API's error replies, as the real API words them (type and message). */
const API_ERRORS: Record<number, { type: string; message: string; headers?: Record<string, string> }> = {
  500: { type: 'api_error', message: 'mock: internal server error' },
  401: { type: 'authentication_error', message: 'mock: invalid x-api-key' },
  429: { type: 'rate_limit_error', message: 'mock: rate limit exceeded', headers: { 'retry-after': '1' } },
};

function apiError(res: http.ServerResponse, seq: number, status: number): void {
  const e = API_ERRORS[status]!;
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_mock_${seq}`, ...e.headers });
  res.end(JSON.stringify({ type: 'error', error: { type: e.type, message: e.message } }));
}

/**
 * Under a usage limit: answers 429 `rejected` (and returns true) while the limit holds; otherwise
 * sets the `allowed` headers on `res` for the real reply that follows (and returns false).
 */
function limitReply(l: UsageLimit, res: http.ServerResponse, seq: number): boolean {
  const resetsAt = l.resetsAt ?? Math.ceil(l.rejectUntilMs / 1000);
  const claim = l.claim ?? 'five_hour';
  const rejected = Date.now() < l.rejectUntilMs;
  const headers: Record<string, string> = {
    'anthropic-ratelimit-unified-status': rejected ? 'rejected' : 'allowed',
    'anthropic-ratelimit-unified-reset': String(resetsAt),
    'anthropic-ratelimit-unified-representative-claim': claim,
    'anthropic-ratelimit-unified-5h-status': rejected ? 'rejected' : 'allowed',
    'anthropic-ratelimit-unified-5h-reset': String(resetsAt),
    'anthropic-ratelimit-unified-5h-utilization': rejected ? '1' : String(l.utilization ?? 0.5),
  };
  if (!rejected && l.surpassedThreshold !== undefined) headers['anthropic-ratelimit-unified-5h-surpassed-threshold'] = String(l.surpassedThreshold);
  if (!rejected) {
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    return false;
  }
  res.writeHead(429, { 'content-type': 'application/json', 'request-id': `req_mock_${seq}`, ...headers });
  res.end(JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'mock: usage limit reached' } }));
  return true;
}

function sse(res: http.ServerResponse, event: string, data: object): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`);
}

function startMessage(res: http.ServerResponse, model: string, seq: number): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': `req_mock_${seq}` });
  sse(res, 'message_start', {
    message: {
      id: `msg_mock_${seq}`,
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 100, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    },
  });
}

function endMessage(res: http.ServerResponse, stopReason: string, outputTokens: number): void {
  sse(res, 'message_delta', { delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: outputTokens } });
  sse(res, 'message_stop', {});
  res.end();
}

function streamText(res: http.ServerResponse, model: string, seq: number, text: string, overMs: number, hang: boolean): void {
  startMessage(res, model, seq);
  sse(res, 'content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
  const parts = overMs > 0 || hang ? 10 : 2;
  const size = Math.ceil(text.length / parts);
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  if (hang) {
    sse(res, 'content_block_delta', { index: 0, delta: { type: 'text_delta', text: pieces[0] ?? '' } });
    return; // Never ends; close() tears the socket down.
  }
  let i = 0;
  const next = (): void => {
    if (res.destroyed) return;
    if (i < pieces.length) {
      sse(res, 'content_block_delta', { index: 0, delta: { type: 'text_delta', text: pieces[i++]! } });
      if (overMs > 0) setTimeout(next, overMs / parts);
      else next();
      return;
    }
    sse(res, 'content_block_stop', { index: 0 });
    endMessage(res, 'end_turn', 12);
  };
  next();
}

function streamToolUse(res: http.ServerResponse, model: string, seq: number, tool: string, toolInput: object): void {
  startMessage(res, model, seq);
  const input = JSON.stringify(toolInput);
  sse(res, 'content_block_start', { index: 0, content_block: { type: 'tool_use', id: `toolu_mock_${seq}`, name: tool, input: {} } });
  const half = Math.floor(input.length / 2);
  sse(res, 'content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: input.slice(0, half) } });
  sse(res, 'content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: input.slice(half) } });
  sse(res, 'content_block_stop', { index: 0 });
  endMessage(res, 'tool_use', 20);
}

/** Where the real CLI is installed by `npm ci` (the devDependency @anthropic-ai/claude-code). */
export const CLAUDE_BIN_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'node_modules', '.bin', 'claude');

/**
 * The real CLI's path, or a thrown error saying how to install it: tests that need the real CLI
 * fail loudly instead of skipping.
 */
export function requireClaudeBin(): string {
  try {
    fs.accessSync(CLAUDE_BIN_PATH, fs.constants.X_OK);
    return CLAUDE_BIN_PATH;
  } catch {
    throw new Error(
      `the real claude CLI is missing at ${CLAUDE_BIN_PATH}: run \`npm ci\` (it installs the devDependency ` +
        '@anthropic-ai/claude-code and its native binary; check that install scripts are allowed)',
    );
  }
}

/**
 * Environment that makes the real CLI run offline against `mock`: a throwaway HOME and TMPDIR under
 * `dir`, no telemetry, updater, error reports or other outside traffic, and no retries (an API error
 * would otherwise take ~3 minutes of backoff). Also sets CLAUDE_BIN for the daemon. Without `dir`
 * the scratch directory is a new temporary one, removed when the mock is closed.
 */
export function offlineClaudeEnv(mock: { url: string; removeOnClose?: (dir: string) => void }, dir?: string): Record<string, string> {
  const bin = requireClaudeBin();
  let base = dir;
  if (base === undefined) {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'cd-claude-'));
    mock.removeOnClose?.(base);
  }
  const home = path.join(base, 'claude-home');
  const tmp = path.join(base, 'claude-tmp');
  fs.mkdirSync(home, { recursive: true });
  fs.mkdirSync(tmp, { recursive: true });
  return {
    ANTHROPIC_BASE_URL: mock.url,
    ANTHROPIC_API_KEY: 'sk-test-mock',
    HOME: home,
    TMPDIR: tmp,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    CLAUDE_CODE_MAX_RETRIES: '0',
    API_TIMEOUT_MS: '30000',
    DISABLE_TELEMETRY: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_ERROR_REPORTING: '1',
    CLAUDE_BIN: bin,
  };
}

/**
 * `offlineClaudeEnv` with subscription auth instead of an API key: a fake
 * `CLAUDE_CODE_OAUTH_TOKEN`, under which the CLI reads the unified rate-limit headers and prints
 * `rate_limit_event` lines (see ../shared/claude-cli/rate-limits.md).
 */
export function subscriptionClaudeEnv(mock: { url: string; removeOnClose?: (dir: string) => void }, dir?: string): Record<string, string> {
  const env = offlineClaudeEnv(mock, dir);
  delete env['ANTHROPIC_API_KEY'];
  env['CLAUDE_CODE_OAUTH_TOKEN'] = 'mock-oauth-token';
  return env;
}

// Standalone: `node --import tsx test/helpers/mock-anthropic.ts` prints the port and serves until killed.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const mock = await startMockAnthropic();
  process.stdout.write(`${mock.port}\n`);
}
