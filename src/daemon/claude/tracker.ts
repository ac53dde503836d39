/**
 * Turns the bytes of a `claude -p --output-format stream-json` run's stdout into its `claude`
 * object, incrementally: bytes in (any chunking, lines split anywhere), object out. It runs in the
 * daemon for every live claude run, so it is built to cost little: complete lines are parsed from
 * the caller's buffer without copying, only a partial last line is kept, and the bulky lines
 * (`user` tool results, which can be megabytes, and partial-message `stream_event`s) are recognised
 * by their first bytes and skipped without being decoded or kept. A line that is not a JSON object
 * is counted and skipped: the stream is someone else's output, so nothing in it can throw here.
 */
import type { ClaudeApiRetry, ClaudeRateLimit, ClaudeRunInfo } from '../../protocol/schemas/claude.js';
import { streamFailure, type ApiErrorLine } from './failure.js';
import { usageLimitOf } from './usage-limit.js';

/** Limits of one tracker. */
export interface TrackerOptions {
  /** Characters of `last_text` kept (default 500). */
  lastTextLimit?: number;
  /** Characters of `result` kept (default 4096; `Infinity` to keep it whole). */
  resultLimit?: number;
  /** Longest line parsed (default 16 MiB); longer ones are skipped and counted as malformed. */
  maxLineBytes?: number;
  /**
   * A live session (`--input-format stream-json`): every turn ends with its own `result` line,
   * after which the run is `idle` (not `done`) until the next turn's `init` line; each result is
   * handed to `onTurnEnded` (a restarted daemon re-reads the file from the start: every turn again).
   */
  onTurnEnded?: (end: TurnEnd) => void;
  /** `control_request` / `control_cancel_request` lines claude writes (permission prompts), parsed. */
  onControl?: (line: Record<string, unknown>) => void;
}

/** One turn's `result` line in a live session, as the tracker read it. */
export interface TurnEnd {
  /** 1 for the first result line, and so on. */
  index: number;
  result: string | null;
  result_truncated: boolean;
  is_error: boolean;
  subtype: string | null;
  /** This turn's cost: the result's session total minus the previous one's (claude reports totals). */
  cost_usd: number | null;
}

/** A fresh object for a run that has printed nothing yet. */
export function emptyClaudeInfo(): ClaudeRunInfo {
  return {
    session_id: null,
    model: null,
    state: 'starting',
    num_turns: 0,
    last_text: null,
    events: 0,
    malformed_lines: 0,
    result: null,
    result_truncated: false,
    is_error: null,
    subtype: null,
    api_error_status: null,
    error: null,
    error_type: null,
    api_retry: null,
    rate_limit: null,
    usage_limit: null,
    total_cost_usd: null,
    duration_ms: null,
    usage: null,
    stall_timeout_s: null,
  };
}

const NL = 0x0a;
/** Every line the CLI prints starts like this; the type name follows. */
const TYPE_PREFIX = Buffer.from('{"type":"');
/** Line types the tracker has no use for: skipped undecoded. */
const BORING = new Set(['user', 'stream_event']);

type Skip = 'none' | 'boring' | 'oversized';

/** Incremental stream-json reader for one run. */
export class StreamTracker {
  /** The run's `claude` object, updated in place (callers may hold on to it). */
  readonly info: ClaudeRunInfo;
  /** `Date.now()` when bytes last arrived; the stall watchdog reads it. */
  lastActivityMs = Date.now();
  private readonly lastTextLimit: number;
  private readonly resultLimit: number;
  private readonly maxLineBytes: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private skip: Skip = 'none';
  private lastMessageId: unknown = undefined;
  private sawResult = false;
  /** The latest assistant line tagged with an `error` (claude's own API-error message). */
  private apiError: ApiErrorLine | undefined;
  private readonly onTurnEnded: ((end: TurnEnd) => void) | undefined;
  private readonly onControl: ((line: Record<string, unknown>) => void) | undefined;
  private turnsEnded = 0;
  private prevTotalCost = 0;

  constructor(opts: TrackerOptions = {}, info: ClaudeRunInfo = emptyClaudeInfo()) {
    this.info = info;
    this.lastTextLimit = opts.lastTextLimit ?? 500;
    this.resultLimit = opts.resultLimit ?? 4096;
    this.maxLineBytes = opts.maxLineBytes ?? 16 * 1024 * 1024;
    this.onTurnEnded = opts.onTurnEnded;
    this.onControl = opts.onControl;
  }

  /** True once a `result` line has been read. */
  get hasResult(): boolean {
    return this.sawResult;
  }

  /** Feeds bytes. The tracker copies only what it must keep, so the caller may reuse `chunk`. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.lastActivityMs = Date.now();
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NL, start);
      if (nl === -1) break;
      if (this.skip !== 'none') {
        this.endSkippedLine();
      } else if (this.pendingBytes === 0) {
        this.line(chunk, start, nl);
      } else {
        this.pending.push(chunk.subarray(start, nl));
        const whole = Buffer.concat(this.pending, this.pendingBytes + nl - start);
        this.clearPending();
        this.line(whole, 0, whole.length);
      }
      start = nl + 1;
    }
    if (start < chunk.length) this.keepPartial(chunk, start);
  }

  /**
   * The process has ended: a last line without a newline still counts, and a run that printed no
   * result line is a failure whatever its exit code (killed, crashed, usage error).
   */
  finish(): void {
    if (this.skip !== 'none') this.endSkippedLine();
    else if (this.pendingBytes > 0) {
      const whole = Buffer.concat(this.pending, this.pendingBytes);
      this.clearPending();
      this.line(whole, 0, whole.length);
    }
    if (!this.sawResult) {
      this.info.is_error = true;
      // Killed or crashed after an API-error message: that message is still the best reason.
      if (this.apiError !== undefined && this.info.error === null) {
        this.info.error = this.apiError.text;
        this.info.error_type = this.apiError.type;
      }
    }
    if (this.info.state !== 'stalled') this.info.state = 'done';
  }

  /** The stall watchdog fired: the mark stays even if a result line follows (claude on SIGINT). */
  markStalled(): void {
    this.info.state = 'stalled';
  }

  private keepPartial(chunk: Buffer, start: number): void {
    if (this.skip !== 'none') return;
    const part = chunk.subarray(start);
    if (this.pendingBytes + part.length > this.maxLineBytes) {
      this.clearPending();
      this.skip = 'oversized';
      return;
    }
    this.pending.push(Buffer.from(part));
    this.pendingBytes += part.length;
    const head = this.pending[0]!;
    if (head.length > TYPE_PREFIX.length + 12) {
      const type = sniffType(head, 0, head.length);
      if (type !== undefined && BORING.has(type)) {
        this.clearPending();
        this.skip = 'boring';
      }
    }
  }

  private endSkippedLine(): void {
    this.info.events++;
    if (this.skip === 'oversized') this.info.malformed_lines++;
    else this.working();
    this.skip = 'none';
  }

  private clearPending(): void {
    this.pending = [];
    this.pendingBytes = 0;
  }

  private line(buf: Buffer, start: number, end: number): void {
    while (end > start && (buf[end - 1] === 0x0d || buf[end - 1] === 0x20 || buf[end - 1] === 0x09)) end--;
    while (start < end && (buf[start] === 0x20 || buf[start] === 0x09)) start++;
    if (start === end) return;
    this.info.events++;
    if (end - start > this.maxLineBytes) {
      this.info.malformed_lines++;
      return;
    }
    const type = sniffType(buf, start, end);
    if (type !== undefined && BORING.has(type)) {
      this.working();
      return;
    }
    let obj: unknown;
    try {
      obj = JSON.parse(buf.toString('utf8', start, end));
    } catch {
      this.info.malformed_lines++;
      return;
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      this.info.malformed_lines++;
      return;
    }
    this.apply(obj as Record<string, unknown>);
  }

  private working(): void {
    if (this.info.state === 'starting') this.info.state = 'working';
  }

  private apply(ev: Record<string, unknown>): void {
    const info = this.info;
    this.working();
    if (info.session_id === null && typeof ev['session_id'] === 'string') info.session_id = ev['session_id'];
    switch (ev['type']) {
      case 'system':
        if (ev['subtype'] === 'init' && this.onTurnEnded !== undefined && info.state === 'idle') info.state = 'working';
        if (ev['subtype'] === 'init' && typeof ev['model'] === 'string') info.model = ev['model'];
        else if (ev['subtype'] === 'api_retry') info.api_retry = apiRetry(ev);
        break;
      case 'assistant':
        info.api_retry = null;
        this.assistant(ev['message']);
        this.noteApiError(ev);
        break;
      case 'result':
        this.result(ev);
        break;
      case 'rate_limit_event':
        info.rate_limit = rateLimit(ev['rate_limit_info']);
        break;
      case 'control_request':
      case 'control_cancel_request':
        this.onControl?.(ev);
        break;
      default:
        break;
    }
  }

  private assistant(message: unknown): void {
    if (typeof message !== 'object' || message === null) return;
    const m = message as Record<string, unknown>;
    if (!this.sawResult && (m['id'] === undefined || m['id'] !== this.lastMessageId)) this.info.num_turns++;
    this.lastMessageId = m['id'];
    if (this.info.model === null && typeof m['model'] === 'string' && m['model'] !== '<synthetic>') this.info.model = m['model'];
    const content = m['content'];
    if (!Array.isArray(content)) return;
    for (const block of content as unknown[]) {
      if (typeof block !== 'object' || block === null) continue;
      const b = block as Record<string, unknown>;
      if (b['type'] === 'text' && typeof b['text'] === 'string') this.info.last_text = truncate(b['text'], this.lastTextLimit);
    }
  }

  /** claude tags the synthetic message it prints for an API error with `error`; a real reply clears it. */
  private noteApiError(ev: Record<string, unknown>): void {
    const type = ev['error'];
    if (typeof type !== 'string' || type === '') {
      this.apiError = undefined;
      return;
    }
    const text = messageText(ev['message']);
    this.apiError = { type, text: text === '' ? `API error (${type})` : truncate(text, this.lastTextLimit) };
  }

  private result(ev: Record<string, unknown>): void {
    const info = this.info;
    this.sawResult = true;
    info.api_retry = null;
    if (info.state !== 'stalled') info.state = 'done';
    const text = typeof ev['result'] === 'string' ? ev['result'] : null;
    info.result = text === null ? null : truncate(text, this.resultLimit);
    info.result_truncated = text !== null && text.length > this.resultLimit;
    info.subtype = typeof ev['subtype'] === 'string' ? ev['subtype'] : null;
    info.is_error = typeof ev['is_error'] === 'boolean' ? ev['is_error'] : info.subtype !== 'success';
    info.api_error_status = typeof ev['api_error_status'] === 'number' ? ev['api_error_status'] : null;
    const failure = info.is_error === true ? streamFailure(ev, this.apiError) : { error: null, error_type: null };
    info.error = failure.error === null ? null : truncate(failure.error, this.lastTextLimit);
    info.error_type = failure.error_type;
    info.usage_limit = info.is_error === true ? usageLimitOf(info, text) : null;
    info.total_cost_usd = typeof ev['total_cost_usd'] === 'number' ? ev['total_cost_usd'] : null;
    info.duration_ms = typeof ev['duration_ms'] === 'number' ? ev['duration_ms'] : null;
    const usage = ev['usage'];
    info.usage = typeof usage === 'object' && usage !== null && !Array.isArray(usage) ? (usage as Record<string, unknown>) : null;
    if (typeof ev['num_turns'] === 'number') info.num_turns = ev['num_turns'];
    if (typeof ev['session_id'] === 'string') info.session_id = ev['session_id'];
    if (this.onTurnEnded !== undefined) this.turnEnded(info);
  }

  private turnEnded(info: ClaudeRunInfo): void {
    if (info.state !== 'stalled') info.state = 'idle';
    const total = info.total_cost_usd;
    const cost = total === null ? null : Math.max(0, total - this.prevTotalCost);
    if (total !== null) this.prevTotalCost = total;
    this.onTurnEnded!({
      index: ++this.turnsEnded,
      result: info.result,
      result_truncated: info.result_truncated,
      is_error: info.is_error === true,
      subtype: info.subtype,
      cost_usd: cost,
    });
  }
}

/** The parts of a `system/api_retry` line worth showing. */
function apiRetry(ev: Record<string, unknown>): ClaudeApiRetry {
  const num = (k: string): number | null => (typeof ev[k] === 'number' ? (ev[k] as number) : null);
  return {
    attempt: num('attempt'),
    max_retries: num('max_retries'),
    error_status: num('error_status'),
    error: typeof ev['error'] === 'string' ? ev['error'] : null,
    retry_delay_ms: num('retry_delay_ms') === null ? null : Math.round(num('retry_delay_ms')!),
  };
}

/** The parts of a `rate_limit_event`'s `rate_limit_info` worth keeping. */
function rateLimit(raw: unknown): ClaudeRateLimit | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const r = raw as Record<string, unknown>;
  const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  return {
    status: typeof r['status'] === 'string' ? r['status'] : null,
    resets_at: num(r['resetsAt']),
    limit_type: typeof r['rateLimitType'] === 'string' ? r['rateLimitType'] : null,
    utilization: num(r['utilization']),
    is_using_overage: typeof r['isUsingOverage'] === 'boolean' ? r['isUsingOverage'] : null,
  };
}

/** The text blocks of an assistant message, joined. */
function messageText(message: unknown): string {
  if (typeof message !== 'object' || message === null) return '';
  const content = (message as Record<string, unknown>)['content'];
  if (!Array.isArray(content)) return '';
  const texts: string[] = [];
  for (const b of content as unknown[]) {
    if (typeof b === 'object' && b !== null && (b as Record<string, unknown>)['type'] === 'text') {
      const t = (b as Record<string, unknown>)['text'];
      if (typeof t === 'string') texts.push(t);
    }
  }
  return texts.join('\n').trim();
}

/** The `type` of a line printed the CLI's way (`{"type":"...`), read from bytes; undefined otherwise. */
function sniffType(buf: Buffer, start: number, end: number): string | undefined {
  const p = TYPE_PREFIX.length;
  if (end - start <= p) return undefined;
  for (let i = 0; i < p; i++) if (buf[start + i] !== TYPE_PREFIX[i]) return undefined;
  const close = buf.indexOf(0x22, start + p);
  if (close === -1 || close >= end || close - start - p > 32) return undefined;
  return buf.toString('latin1', start + p, close);
}

function truncate(s: string, limit: number): string {
  return s.length <= limit ? s : s.slice(0, limit) + '…';
}
