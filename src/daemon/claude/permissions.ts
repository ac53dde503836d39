/**
 * Permission prompts routed to the parent (`spawn_claude {permissions: "ask"}`). Such a run has
 * `--permission-prompt-tool stdio`: before a tool use that needs permission claude writes a
 * `can_use_tool` control request on stdout and waits. The stdout tracker hands each one here; it
 * becomes an entry of the record's `claude.pending_permissions` until `answer_permission` (or the
 * run's `permission_timeout_s`, which denies it) writes the control response to the session's
 * input. Answered request ids are kept in DIR/permissions.json, so a restarted daemon, which
 * re-reads stdout from the start, does not ask again what was already answered; a prompt still open
 * keeps its `asked_at` (and so its deadline) from that file too.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ClaudeRunInfo, PendingPermission } from '../../protocol/schemas/claude.js';
import type { Logger } from '../log.js';
import type { Supervisor } from '../supervisor/index.js';
import type { LiveSessions } from './live.js';
import { allowMatch, denyMatch } from './permission-rules.js';

/** `permission_timeout_s` when the spawn gives none. */
export const DEFAULT_PERMISSION_TIMEOUT_S = 300;

/** What DIR/permissions.json holds. */
interface PermFile {
  version: 1;
  answered: string[];
  asked: Record<string, string>;
}

interface Run {
  readonly file: string;
  readonly state: PermFile;
  info: ClaudeRunInfo;
  readonly timers: Map<string, NodeJS.Timeout>;
}

/** An answer, as `answer_permission` gives it. */
export interface PermissionAnswer {
  behavior: 'allow' | 'deny';
  updated_input?: Record<string, unknown> | undefined;
  message?: string | undefined;
}

/** The permission prompts of every `permissions: "ask"` run of one daemon. */
export class PermissionRouter {
  private readonly runs = new Map<string, Run>();

  constructor(
    private readonly sup: Supervisor,
    private readonly live: LiveSessions,
    private readonly log: Logger,
  ) {}

  /** A `permissions: "ask"` run's process started (or was re-adopted): `info` is its tracker's object. */
  attach(id: string, info: ClaudeRunInfo): void {
    this.detach(id);
    const file = path.join(path.dirname(this.sup.stdinPath(id)), 'permissions.json');
    info.pending_permissions = [];
    this.runs.set(id, { file, state: readState(file) ?? { version: 1, answered: [], asked: {} }, info, timers: new Map() });
  }

  /** A `control_request` or `control_cancel_request` line from the run's stdout. */
  onControl(id: string, line: Record<string, unknown>): void {
    const r = this.runs.get(id);
    const requestId = line['request_id'];
    if (r === undefined || typeof requestId !== 'string') return;
    if (line['type'] === 'control_cancel_request') {
      if (this.drop(r, requestId)) this.finish(id, r, requestId);
      return;
    }
    const req = line['request'];
    if (typeof req !== 'object' || req === null || (req as Record<string, unknown>)['subtype'] !== 'can_use_tool') return;
    if (r.state.answered.includes(requestId) || r.info.pending_permissions!.some((p) => p.request_id === requestId)) return;
    const q = req as Record<string, unknown>;
    const input = q['input'];
    const toolName = typeof q['tool_name'] === 'string' ? q['tool_name'] : 'unknown';
    const toolInput = typeof input === 'object' && input !== null && !Array.isArray(input) ? (input as Record<string, unknown>) : {};
    if (this.autoAnswer(id, r, requestId, toolName, toolInput)) return;
    const askedAt = r.state.asked[requestId] ?? new Date().toISOString();
    r.state.asked[requestId] = askedAt;
    this.save(r);
    r.info.pending_permissions!.push({
      request_id: requestId,
      tool_name: toolName,
      input: toolInput,
      asked_at: askedAt,
    });
    const limitS = r.info.permission_timeout_s ?? DEFAULT_PERMISSION_TIMEOUT_S;
    const left = Math.max(0, Date.parse(askedAt) + limitS * 1000 - Date.now());
    const timer = setTimeout(() => {
      r.timers.delete(requestId);
      this.log.info(`claude run ${id}: permission prompt ${requestId} unanswered for ${limitS} s (permission_timeout_s): denying it`);
      this.answer(id, requestId, { behavior: 'deny', message: `Permission denied by claude-daemon: no answer within ${limitS} s (permission_timeout_s)` });
    }, left);
    timer.unref();
    r.timers.set(requestId, timer);
    this.sup.updateClaude(id, r.info);
  }

  /**
   * Writes claude the answer to one pending prompt; the prompt, or undefined when the run has no
   * pending prompt of that id. Allow always sends `updatedInput` (newer CLIs refuse a bare allow).
   */
  answer(id: string, requestId: string, a: PermissionAnswer): PendingPermission | undefined {
    const r = this.runs.get(id);
    const p = r?.info.pending_permissions?.find((x) => x.request_id === requestId);
    if (r === undefined || p === undefined) return undefined;
    const response =
      a.behavior === 'allow'
        ? { behavior: 'allow', updatedInput: a.updated_input ?? p.input }
        : { behavior: 'deny', message: a.message ?? 'Permission denied by the parent (answer_permission)' };
    const msg = { type: 'control_response', response: { subtype: 'success', request_id: requestId, response } };
    if (!this.live.control(id, msg)) this.log.warn(`claude run ${id}: its input is closed; the answer to ${requestId} was not sent`);
    this.drop(r, requestId);
    this.finish(id, r, requestId);
    return p;
  }

  /** Answers a prompt matching an `auto_deny` (first) or `auto_allow` rule at once; true if it did. */
  private autoAnswer(id: string, r: Run, requestId: string, tool: string, input: Record<string, unknown>): boolean {
    const deny = denyMatch(r.info.auto_deny, tool, input);
    const allow = deny === undefined ? allowMatch(r.info.auto_allow, tool, input) : undefined;
    if (deny === undefined && allow === undefined) return false;
    const response = deny !== undefined ? { behavior: 'deny', message: `Permission denied by claude-daemon: the auto_deny rule ${deny} matches` } : { behavior: 'allow', updatedInput: input };
    this.live.control(id, { type: 'control_response', response: { subtype: 'success', request_id: requestId, response } });
    this.log.info(`claude run ${id}: ${tool} prompt ${requestId} ${deny !== undefined ? `denied by auto_deny ${deny}` : `allowed by auto_allow ${allow}`}`);
    r.state.answered.push(requestId);
    this.save(r);
    return true;
  }

  /** The run ended or was removed: its prompts can no longer be answered. */
  detach(id: string): void {
    const r = this.runs.get(id);
    if (r === undefined) return;
    for (const t of r.timers.values()) clearTimeout(t);
    r.info.pending_permissions = [];
    this.runs.delete(id);
  }

  private drop(r: Run, requestId: string): boolean {
    const list = r.info.pending_permissions!;
    const i = list.findIndex((x) => x.request_id === requestId);
    if (i === -1) return false;
    list.splice(i, 1);
    const t = r.timers.get(requestId);
    if (t !== undefined) clearTimeout(t);
    r.timers.delete(requestId);
    return true;
  }

  private finish(id: string, r: Run, requestId: string): void {
    r.state.answered.push(requestId);
    delete r.state.asked[requestId];
    this.save(r);
    this.sup.updateClaude(id, r.info);
  }

  private save(r: Run): void {
    const tmp = `${r.file}.tmp`;
    try {
      fs.writeFileSync(tmp, JSON.stringify(r.state), { mode: 0o600 });
      fs.renameSync(tmp, r.file);
    } catch (err) {
      this.log.warn(`cannot save ${r.file}: ${(err as Error).message}`);
    }
  }
}

function readState(file: string): PermFile | undefined {
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8')) as PermFile;
    return v !== null && typeof v === 'object' && v.version === 1 && Array.isArray(v.answered) ? v : undefined;
  } catch {
    return undefined;
  }
}
