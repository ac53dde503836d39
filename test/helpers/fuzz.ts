/**
 * Protocol fuzzing rig shared by the quick batch (test/reliability) and the long one (test/stress).
 * Every payload is checked against an independent model of the protocol (fuzz-model.ts, written from
 * docs/protocol.md, never from the daemon's schemas): for each line sent we predict its reply (its
 * outcome and the id it must echo) from the line alone, and the replies must match line by line.
 * Safety: a line that would run a command for real is only sent if that command is harmless
 * (SAFE_TO_RUN); every other command is sent only with parameters that are invalid, so fuzzing never
 * shuts the daemon down, spawns a process or calls a module. That one safety check also asks the
 * daemon's schema (a model mistake must never run a command); a disagreement fails the test.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import fc from 'fast-check';
import type { z } from 'zod';
import { COMMAND_SCHEMAS } from '../../src/protocol/commands.js';
import { ERROR_CODES } from '../../src/protocol/errors.js';
import { EDGES, EXAMPLES, fieldsOf, MODEL_COMMANDS, predict, type Prediction } from './fuzz-model.js';
import { waitFor } from './wait.js';

/** Commands whose valid requests have no effect worth avoiding. */
export const SAFE_TO_RUN: ReadonlySet<string> = new Set(['ping']);

/**
 * Whether a line may be sent: harmless, or invalid by the model. For an unsafe command the model
 * calls invalid, the daemon's schema must agree before it is sent; if it does not, the model is
 * wrong (or the schema is), and the test fails here rather than run the command.
 */
function safeToSend(line: Uint8Array, p: Prediction): boolean {
  if (p.command === undefined || SAFE_TO_RUN.has(p.command)) return true;
  const obj = JSON.parse(new TextDecoder().decode(line).replace(/\r$/, '')) as Record<string, unknown>;
  const params: Record<string, unknown> = {};
  for (const k of Object.keys(obj)) if (k !== 'command' && k !== 'id' && k !== '__proto__') params[k] = obj[k];
  const schema = (COMMAND_SCHEMAS as Record<string, z.ZodType>)[p.command];
  assert.ok(schema, `the model knows ${p.command}, the daemon does not`);
  const valid = schema.safeParse(params).success;
  assert.equal(valid, p.outcome === 'ok', `the model calls this ${p.command} ${p.outcome}, the daemon's schema ${valid ? 'valid' : 'invalid'}: ${new TextDecoder().decode(line).slice(0, 300)}`);
  return !valid;
}

/** Splits a payload into its lines as the daemon frames them (the last one completed by us). */
export function linesOf(payload: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < payload.length; i++) {
    if (payload[i] === 0x0a) {
      out.push(payload.subarray(start, i));
      start = i + 1;
    }
  }
  out.push(payload.subarray(start));
  return out;
}

/** Replaces any line that would run an unsafe command with one that is invalid. */
export function defuse(payload: Uint8Array): Buffer {
  const lines = linesOf(payload).map((l) => (safeToSend(l, predict(l)) ? Buffer.from(l) : Buffer.from('{"command":"shutdown","kill_processes":"defused"}')));
  return Buffer.concat(lines.flatMap((l, i) => (i === 0 ? [l] : [Buffer.from('\n'), l])));
}

/** A parsed reply line and the raw text it came from. */
export interface ReplyLine {
  raw: string;
  obj: Record<string, unknown>;
}

/** Asserts the envelope every reply must have: success boolean; a registered code on failure. */
export function assertWellFormed(r: ReplyLine): void {
  assert.equal(typeof r.obj['success'], 'boolean', `no boolean success: ${r.raw}`);
  if (r.obj['success'] === false) {
    assert.ok(typeof r.obj['code'] === 'string' && Object.hasOwn(ERROR_CODES, r.obj['code']), `unregistered code: ${r.raw}`);
    assert.equal(typeof r.obj['error'], 'string', `no error message: ${r.raw}`);
  } else {
    assert.ok('result' in r.obj, `success without result: ${r.raw}`);
  }
}

/** A raw connection that parses every reply line (and fails the test on one that is not JSON). */
export class FuzzConn {
  readonly replies: ReplyLine[] = [];
  readonly garbage: string[] = [];
  closed = false;
  private buf = Buffer.alloc(0);

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      let nl: number;
      while ((nl = this.buf.indexOf(0x0a)) !== -1) {
        const raw = this.buf.subarray(0, nl).toString('utf8');
        this.buf = this.buf.subarray(nl + 1);
        try {
          this.replies.push({ raw, obj: JSON.parse(raw) as Record<string, unknown> });
        } catch {
          this.garbage.push(raw);
        }
      }
    });
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => undefined);
  }

  static open(path: string): Promise<FuzzConn> {
    return new Promise((resolve, reject) => {
      const s = net.createConnection(path);
      s.once('connect', () => resolve(new FuzzConn(s)));
      s.once('error', reject);
    });
  }

  /** Writes the payload in the given pieces, yielding to the event loop between them. */
  async write(payload: Buffer, cuts: number[] = []): Promise<void> {
    let prev = 0;
    for (const c of [...new Set(cuts)].filter((c) => c > 0 && c < payload.length).sort((a, b) => a - b)) {
      this.socket.write(payload.subarray(prev, c));
      prev = c;
      await new Promise((r) => setImmediate(r));
    }
    this.socket.write(payload.subarray(prev));
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A prediction or a reply as one comparable string: outcome and echoed id. */
const shown = (outcome: string, id: unknown): string => `${outcome}${id === undefined ? '' : ` id=${JSON.stringify(id)}`}`;

/**
 * Sends one payload (plus a newline completing its last line) on a fresh connection and checks the
 * replies against the model line by line: one reply per non-blank line, in order (every command the
 * fuzz runs answers at once), each well-formed, with the predicted outcome and id. Then a ping on
 * the same connection proves it is still served.
 */
export async function checkPayload(socket: string, payload: Uint8Array, cuts: number[] = []): Promise<void> {
  const safe = defuse(payload);
  const expected = linesOf(safe)
    .map((l) => predict(l))
    .filter((p) => p.outcome !== 'none')
    .map((p) => shown(p.outcome, p.id));
  const conn = await FuzzConn.open(socket);
  try {
    await conn.write(Buffer.concat([safe, Buffer.from('\n')]), cuts);
    await waitFor(() => conn.replies.length >= expected.length || conn.closed, { what: `${expected.length} replies (have ${conn.replies.length})`, intervalMs: 2 });
    const sentinel = `sentinel-${Math.random()}`;
    conn.socket.write(JSON.stringify({ command: 'ping', id: sentinel }) + '\n');
    await waitFor(() => conn.replies.some((r) => r.obj['id'] === sentinel) || conn.closed, { what: 'sentinel ping', intervalMs: 2 });
    assert.deepEqual(conn.garbage, [], 'every reply line is JSON');
    assert.equal(conn.closed, false, 'the connection stays open');
    const got = conn.replies.filter((r) => r.obj['id'] !== sentinel);
    for (const r of conn.replies) assertWellFormed(r);
    const actual = got.map((r) => shown(r.obj['success'] === true ? 'ok' : String(r.obj['code']), r.obj['id']));
    assert.deepEqual(actual, expected, `replies match the model line by line for ${JSON.stringify(Buffer.from(safe).toString('utf8').slice(0, 300))}`);
  } finally {
    conn.close();
  }
}

/** The daemon's own list of commands (from an UNKNOWN_COMMAND message) must be the model's. */
export async function assertModelKnowsEveryCommand(socket: string): Promise<void> {
  const conn = await FuzzConn.open(socket);
  try {
    conn.socket.write('{"command":"no such command"}\n');
    await waitFor(() => conn.replies.length === 1, { what: 'the UNKNOWN_COMMAND reply' });
    const msg = String(conn.replies[0]!.obj['error']);
    const listed = /known commands: (.*)$/.exec(msg)?.[1]?.split(', ').sort();
    assert.deepEqual(listed, [...MODEL_COMMANDS], `the fuzz model must cover every command the daemon knows: ${msg}`);
  } finally {
    conn.close();
  }
}

/** Values at the edges of the validation rules: ranges, lengths, names, signal spellings. */
const EDGE_VALUES: unknown[] = [
  0, 1, 3, 4, 0.5, -1, 3600, 3600.5, 86_400, 86_401, 16 * 1024 * 1024, 16 * 1024 * 1024 + 1, 2 ** 53, 1e300,
  '', '.', '..', 'a', 'x'.repeat(64), 'x'.repeat(65), 'ok-id_1.2', 'a/b', 'TERM', 'sigkill', 'SIGBOGUS', 'stdout', 'stderr',
  'base64', 'utf8', 'running', 'plan', '00000000-0000-0000-0000-000000000000', 'é'.repeat(200), '😀'.repeat(200), '😀'.repeat(201),
  [], ['a'], [''], [1], {}, { a: 'b' }, { a: 1 }, null,
];

/** Arbitrary request-ish objects: a known command (or not) with some of its parameters (edge values, or any JSON) and unknown keys. */
export function requestObject(): fc.Arbitrary<Record<string, unknown>> {
  const known = fc.constantFrom(...MODEL_COMMANDS);
  const command = fc.oneof({ weight: 6, arbitrary: known }, { weight: 1, arbitrary: fc.string() }, { weight: 1, arbitrary: fc.jsonValue() });
  const value = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...EDGE_VALUES) }, { weight: 1, arbitrary: fc.boolean() }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) });
  return command.chain((cmd) => {
    const fields = typeof cmd === 'string' ? fieldsOf(cmd) : [];
    return fc
      .record({
        // Valid ids here; invalid ones come from `extra` (a key "id" of any JSON type), which the
        // model predicts too (INVALID_REQUEST).
        id: fc.option(fc.oneof(fc.string(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })), { nil: undefined }),
        extra: fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }),
        params:
          fields.length > 0
            ? fc.array(fc.constantFrom(...fields), { maxLength: 3 }).chain((keys) =>
                fc.tuple(...keys.map((k) => fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...(EDGES[k] ?? EDGE_VALUES)) }, { weight: 1, arbitrary: value }))).map((vals) => Object.fromEntries(keys.map((k, i) => [k, vals[i]]))),
              )
            : fc.constant({}),
        // Half the time start from a valid request, so the changed fields meet their rules' edges.
        base: fc.boolean(),
      })
      .map(({ id, extra, params, base }) => {
        const example = base && typeof cmd === 'string' && Object.hasOwn(EXAMPLES, cmd) ? EXAMPLES[cmd] : {};
        const obj: Record<string, unknown> = { ...extra, ...example, ...params, command: cmd };
        if (id !== undefined) obj['id'] = id;
        return obj;
      });
  });
}

const enc = new TextEncoder();

/** Bytes that are not valid UTF-8: stray continuation bytes, overlongs, truncated sequences, 0xFF. */
export function invalidUtf8(): fc.Arbitrary<Uint8Array> {
  const bad = fc.constantFrom([0x80], [0xbf], [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xff], [0xfe], [0xe2, 0x82], [0xf0, 0x9f, 0x98]);
  return fc.array(bad, { minLength: 1, maxLength: 5 }).map((xs) => Uint8Array.from(xs.flat()));
}

/** Payload generators, one per family the issue names; each yields raw bytes and write cut points. */
export const payloads = {
  randomBytes: fc.uint8Array({ maxLength: 2048 }),
  randomJson: fc.array(fc.json({ maxDepth: 3 }), { minLength: 1, maxLength: 8 }).map((xs) => enc.encode(xs.join('\n'))),
  requests: fc.array(requestObject(), { minLength: 1, maxLength: 16 }).map((xs) => enc.encode(xs.map((x) => JSON.stringify(x)).join('\n'))),
  truncated: fc
    .tuple(requestObject(), fc.nat())
    .map(([obj, n]) => {
      const b = enc.encode(JSON.stringify(obj));
      return b.subarray(0, n % b.length);
    }),
  invalidUtf8InJson: fc
    .tuple(invalidUtf8(), fc.boolean())
    .map(([bad, asId]) =>
      Uint8Array.from([...enc.encode(asId ? '{"command":"ping","id":"' : '{"command":"'), ...bad, ...enc.encode(asId ? '"}' : 'ping"}')]),
    ),
  invalidUtf8Raw: fc.array(fc.oneof(invalidUtf8(), fc.uint8Array({ maxLength: 16 })), { maxLength: 12 }).map((xs) => Uint8Array.from(xs.flatMap((x) => [...x]))),
};

/** Random cut points for writing a payload in pieces. */
export const cutPoints = fc.array(fc.nat({ max: 4096 }), { maxLength: 4 });

/**
 * A ping line of exactly `len` bytes (before the newline): padding made of `unit` (ASCII or
 * multi-byte) so the byte count, not the character count, is what the limit sees.
 */
export function pingOfLength(len: number, unit: string): Buffer {
  const head = Buffer.from('{"command":"ping","pad":"');
  const tail = Buffer.from('"}');
  const u = Buffer.from(unit);
  const room = len - head.length - tail.length;
  if (room < 0) throw new Error('too short');
  const n = Math.floor(room / u.length);
  const fill = Buffer.concat([Buffer.alloc(n * u.length, u), Buffer.alloc(room - n * u.length, 'x')]);
  return Buffer.concat([head, fill, tail]);
}

/** Proves the daemon is unharmed after a batch: it answers, and the bystander saw only its own replies. */
export async function assertUndisturbed(socket: string, bystander: FuzzConn, pid: number): Promise<void> {
  const id = `bystander-${Math.random()}`;
  const before = bystander.replies.length;
  bystander.socket.write(JSON.stringify({ command: 'ping', id }) + '\n');
  await waitFor(() => bystander.replies.length > before || bystander.closed, { what: 'bystander ping' });
  assert.equal(bystander.closed, false, 'the bystander connection was not closed');
  assert.deepEqual(bystander.garbage, []);
  assert.equal(bystander.replies.length, before + 1, 'the bystander received only its own reply');
  const r = bystander.replies[before]!;
  assert.equal(r.obj['id'], id);
  assert.equal((r.obj['result'] as { pid?: unknown } | undefined)?.pid, pid, 'same daemon process still answers');
  const fresh = await FuzzConn.open(socket);
  fresh.socket.write('{"command":"ping"}\n');
  await waitFor(() => fresh.replies.length === 1, { what: 'ping on a fresh connection' });
  fresh.close();
}

/** Writes a prefix of a line, then drops the connection without finishing it. */
export async function sendThenHangUp(socket: string, bytes: Uint8Array): Promise<void> {
  const conn = await FuzzConn.open(socket);
  await conn.write(Buffer.from(bytes));
  conn.close();
}

/** Registers the fuzz properties as node:test subtests of `t`, each with `numRuns` cases. */
export async function runFuzzBatch(
  t: { test: (name: string, fn: () => Promise<void>) => Promise<void> },
  socket: string,
  bystander: FuzzConn,
  pid: number,
  numRuns: number,
  seed?: number,
): Promise<void> {
  const params = { numRuns, ...(seed !== undefined ? { seed } : {}) };
  await t.test('the model knows every command the daemon knows', () => assertModelKnowsEveryCommand(socket));
  for (const [name, arb] of Object.entries(payloads)) {
    await t.test(`${name}: every line gets one well-formed reply as the model predicts`, async () => {
      // Requests near every parameter rule's edge are where a schema slip shows: run more of them.
      await fc.assert(
        fc.asyncProperty(arb, cutPoints, (bytes, cuts) => checkPayload(socket, bytes, cuts)),
        name === 'requests' ? { ...params, numRuns: numRuns * 4 } : params,
      );
      await assertUndisturbed(socket, bystander, pid);
    });
  }
  await t.test('unfinished lines followed by a hang-up leave the daemon serving', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(payloads.truncated, payloads.randomBytes, payloads.invalidUtf8Raw), (bytes) => sendThenHangUp(socket, defuse(bytes))),
      params,
    );
    await assertUndisturbed(socket, bystander, pid);
  });
}
