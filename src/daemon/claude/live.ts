/**
 * Live claude sessions (`spawn_claude {interactive: true}`): the daemon's side of a run that reads
 * user turns from stdin (`--input-format stream-json`). The run's stdin is the FIFO DIR/stdin,
 * held open by the wrapper (wrap.c mode "f"), so a daemon crash never closes it; the daemon (or a
 * restarted one) opens it for writing to send turns. Per session the daemon keeps, in
 * DIR/session.json (replaced atomically at each change, so a restart resumes it): how many turns
 * were written, the texts still queued (written one at a time, after the running turn ends, so a
 * message never waits inside claude where a crash would lose it), interrupted turns, turn times,
 * and whether the input is closing. Turn results come from the stdout tracker (re-read from the
 * start by a restarted daemon, so every turn is rebuilt).
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { ClaudeRunInfo, ClaudeTurn } from '../../protocol/schemas/claude.js';
import type { Logger } from '../log.js';
import type { Supervisor } from '../supervisor/index.js';
import type { TurnEnd } from './tracker.js';

/** What DIR/session.json holds. */
interface SessionFile {
  version: 1;
  /** Turns written to the FIFO so far. */
  written: number;
  /** Texts not yet written, in order (turn written+1, written+2, ...). */
  queue: string[];
  closing: boolean;
  idle_timeout_s: number | null;
  interrupted: number[];
  started: Record<string, string>;
  ended: Record<string, string>;
}

interface Live {
  readonly id: string;
  readonly file: string;
  readonly fifo: string;
  state: SessionFile;
  ends: TurnEnd[];
  info: ClaudeRunInfo | undefined;
  out: net.Socket | undefined;
  running: boolean;
  ended: boolean;
  closedInput: boolean;
  idleTimer: NodeJS.Timeout | undefined;
}

/**
 * The live sessions of one daemon. Emits `turn_ended` (process id, turn number) and `changed`
 * (process id) for waiters, and a later event stream.
 */
export class LiveSessions extends EventEmitter {
  private readonly lives = new Map<string, Live>();

  constructor(
    private readonly sup: Supervisor,
    private readonly log: Logger,
  ) {
    super();
    this.setMaxListeners(0);
  }

  private readonly expected = new Map<string, { prompt?: string | undefined; idle_timeout_s?: number | null | undefined }>();

  /** `spawn_claude` announces a session before spawning it: its first turn and idle limit. */
  expect(id: string, opts: { prompt?: string | undefined; idle_timeout_s?: number | null | undefined }): void {
    this.expected.set(id, opts);
  }

  /** A spawned (or restored) live session: loads or creates its state file (see `expect`). */
  attach(id: string): void {
    if (this.lives.has(id)) return;
    const opts = this.expected.get(id) ?? {};
    this.expected.delete(id);
    const fifo = this.sup.stdinPath(id);
    const file = path.join(path.dirname(fifo), 'session.json');
    const state = readState(file) ?? {
      version: 1, written: 0, queue: opts.prompt !== undefined ? [opts.prompt] : [], closing: false,
      idle_timeout_s: opts.idle_timeout_s ?? null, interrupted: [], started: {}, ended: {},
    };
    const l: Live = { id, file, fifo, state, ends: [], info: undefined, out: undefined, running: false, ended: false, closedInput: false, idleTimer: undefined };
    this.lives.set(id, l);
    this.save(l);
  }

  /** True when `id` is a live session this daemon tracks. */
  has(id: string): boolean {
    return this.lives.has(id);
  }

  /** The tracker's object of a session whose process has already ended (read once after a restart). */
  bind(id: string, info: ClaudeRunInfo): void {
    const l = this.lives.get(id);
    if (l !== undefined) l.info = info;
  }

  /** The run's process started (or was re-adopted): its tracker's object; queued turns may go. */
  started(id: string, info: ClaudeRunInfo): void {
    const l = this.lives.get(id);
    if (l === undefined) return;
    l.info = info;
    l.running = true;
    this.render(l);
    this.pump(l);
  }

  /** The tracker read the result line of the next turn. */
  turnEnded(id: string, end: TurnEnd): void {
    const l = this.lives.get(id);
    if (l === undefined) return;
    l.ends[end.index - 1] = end;
    const key = String(end.index);
    if (l.state.ended[key] === undefined) {
      l.state.ended[key] = new Date().toISOString();
      this.save(l);
    }
    // A result for a turn this daemon did not record as written (it died between write and save).
    if (end.index > l.state.written) {
      l.state.written = end.index;
      this.save(l);
    }
    this.render(l);
    this.emit('turn_ended', id, end.index);
    this.pump(l);
  }

  /** The process ended: queued turns will never run. */
  ended(id: string): void {
    const l = this.lives.get(id);
    if (l === undefined) return;
    l.ended = true;
    l.running = false;
    this.stopIdle(l);
    l.out?.destroy();
    l.out = undefined;
    this.render(l);
    this.emit('changed', id);
  }

  /** The record was removed. */
  forget(id: string): void {
    this.expected.delete(id);
    const l = this.lives.get(id);
    if (l === undefined) return;
    this.stopIdle(l);
    l.out?.destroy();
    this.lives.delete(id);
  }

  /** Queues a user turn; returns its number and whether it waits behind another. */
  send(id: string, text: string): { turn: number; queued: boolean } | 'closed' {
    const l = this.lives.get(id);
    if (l === undefined || l.ended || l.state.closing) return 'closed';
    l.state.queue.push(text);
    const turn = l.state.written + l.state.queue.length;
    this.save(l);
    const busy = !this.idle(l) || l.state.queue.length > 1 || !l.running;
    this.pump(l);
    this.render(l);
    return { turn, queued: busy };
  }

  /** Sends the interrupt control request for the running turn; the turn, or null when none runs. */
  interrupt(id: string): number | null | 'closed' {
    const l = this.lives.get(id);
    if (l === undefined || l.ended) return 'closed';
    if (this.idle(l) || !l.running) return null;
    const turn = l.state.written;
    if (!l.state.interrupted.includes(turn)) l.state.interrupted.push(turn);
    this.save(l);
    const req = { type: 'control_request', request_id: `interrupt-${turn}-${Date.now()}`, request: { subtype: 'interrupt' } };
    this.write(l, JSON.stringify(req) + '\n');
    this.render(l);
    return turn;
  }

  /** Writes one control line (a permission answer) to the session's input; false once it has ended. */
  control(id: string, msg: object): boolean {
    const l = this.lives.get(id);
    if (l === undefined || l.ended || l.closedInput) return false;
    this.write(l, JSON.stringify(msg) + '\n');
    return true;
  }

  /** Marks the input closing: it closes once the queued turns have run. */
  close(id: string): { pending: number; closedNow: boolean } | 'closed' {
    const l = this.lives.get(id);
    if (l === undefined || l.ended) return 'closed';
    const pending = l.state.queue.length + (this.idle(l) ? 0 : 1);
    if (l.state.closing) return { pending, closedNow: false };
    l.state.closing = true;
    this.save(l);
    this.pump(l);
    this.render(l);
    return { pending, closedNow: true };
  }

  /** The turns as the record shows them, or undefined for a run that is not a live session. */
  turns(id: string): ClaudeTurn[] | undefined {
    const l = this.lives.get(id);
    return l === undefined ? undefined : buildTurns(l);
  }

  /** True once turn `n` has ended, or can no longer run (the process ended). */
  turnSettled(id: string, n: number): boolean {
    const l = this.lives.get(id);
    return l === undefined || l.ended || l.ends[n - 1] !== undefined;
  }

  /** No turn written and unfinished. */
  private idle(l: Live): boolean {
    return countEnds(l) >= l.state.written;
  }

  /** Writes the next queued turn when the session is idle; closes the input when due. */
  private pump(l: Live): void {
    if (!l.running || l.ended) return;
    if (this.idle(l) && l.state.queue.length > 0) {
      const text = l.state.queue.shift()!;
      l.state.written++;
      l.state.started[String(l.state.written)] = new Date().toISOString();
      this.save(l);
      const line = { type: 'user', message: { role: 'user', content: text }, parent_tool_use_id: null };
      this.write(l, JSON.stringify(line) + '\n');
      if (l.info !== undefined && l.info.state === 'idle') l.info.state = 'working';
      this.render(l);
    }
    if (!this.idle(l)) {
      this.stopIdle(l);
      return;
    }
    if (l.state.closing) {
      this.closeInput(l);
      return;
    }
    if (l.state.idle_timeout_s !== null && l.idleTimer === undefined) {
      l.idleTimer = setTimeout(() => {
        l.idleTimer = undefined;
        if (l.ended || !this.idle(l) || l.state.queue.length > 0) return;
        this.log.info(`live session ${l.id} idle for ${l.state.idle_timeout_s} s (idle_timeout_s): closing its input`);
        l.state.closing = true;
        this.save(l);
        this.closeInput(l);
      }, l.state.idle_timeout_s * 1000);
      l.idleTimer.unref();
    }
  }

  /** Drops every writer of the FIFO: ours, and the wrapper's (SIGUSR1); claude then reads EOF. */
  private closeInput(l: Live): void {
    if (l.closedInput) return;
    l.closedInput = true;
    this.stopIdle(l);
    const out = l.out;
    l.out = undefined;
    const signal = (): void => {
      if (!this.sup.signalWrapper(l.id, 'SIGUSR1')) this.log.warn(`live session ${l.id}: its wrapper is gone; input not closed by signal`);
    };
    if (out === undefined) signal();
    else out.end(signal);
    this.render(l);
  }

  private stopIdle(l: Live): void {
    if (l.idleTimer !== undefined) clearTimeout(l.idleTimer);
    l.idleTimer = undefined;
  }

  private write(l: Live, line: string): void {
    if (l.out === undefined) {
      let fd: number;
      try {
        fd = fs.openSync(l.fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
      } catch (err) {
        this.log.warn(`live session ${l.id}: cannot open its input ${l.fifo}: ${(err as Error).message}`);
        return;
      }
      const out = new net.Socket({ fd, readable: false, writable: true });
      out.on('error', (err) => this.log.warn(`live session ${l.id}: input write failed: ${err.message}`));
      out.unref();
      l.out = out;
    }
    l.out.write(line);
  }

  /** Puts the turns into the record's `claude` object and persists it. */
  private render(l: Live): void {
    const info = l.info;
    if (info === undefined) return;
    info.interactive = true;
    info.idle_timeout_s = l.state.idle_timeout_s;
    info.input_closed = l.state.closing;
    info.turns = buildTurns(l);
    this.sup.updateClaude(l.id, info);
    this.emit('changed', l.id);
  }

  private save(l: Live): void {
    const tmp = `${l.file}.tmp`;
    try {
      fs.writeFileSync(tmp, JSON.stringify(l.state), { mode: 0o600 });
      fs.renameSync(tmp, l.file);
    } catch (err) {
      this.log.warn(`live session ${l.id}: cannot save ${l.file}: ${(err as Error).message}`);
    }
  }
}

function countEnds(l: Live): number {
  let n = 0;
  while (l.ends[n] !== undefined) n++;
  return n;
}

function buildTurns(l: Live): ClaudeTurn[] {
  const s = l.state;
  const out: ClaudeTurn[] = [];
  const total = s.written + s.queue.length;
  for (let n = 1; n <= total; n++) {
    const end = l.ends[n - 1];
    const key = String(n);
    let state: ClaudeTurn['state'] = n > s.written ? 'queued' : 'running';
    if (end !== undefined) state = s.interrupted.includes(n) && end.is_error ? 'interrupted' : end.is_error ? 'error' : 'done';
    else if (l.ended && n <= s.written) state = 'error';
    out.push({
      number: n, state,
      result: end?.result ?? null, result_truncated: end?.result_truncated ?? false,
      is_error: end?.is_error ?? (state === 'error' ? true : null), subtype: end?.subtype ?? null, cost_usd: end?.cost_usd ?? null,
      started_at: s.started[key] ?? null, ended_at: end !== undefined ? (s.ended[key] ?? null) : null,
    });
  }
  return out;
}

function readState(file: string): SessionFile | undefined {
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8')) as SessionFile;
    return v !== null && typeof v === 'object' && v.version === 1 && Array.isArray(v.queue) ? v : undefined;
  } catch {
    return undefined;
  }
}
