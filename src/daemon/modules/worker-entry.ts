/**
 * The code that runs inside each module version's worker thread. It boots before it knows which
 * module it will host (so a spare can be started ahead of a reload), imports exactly one snapshot,
 * then serves calls until the daemon terminates it. Everything the module does (timers, globals,
 * sockets) dies with this thread, which is what makes a reload a clean slate.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { parentPort } from 'node:worker_threads';
import { CALL_CONTEXT_KEY, type CallContext } from '../../protocol/call-context.js';
import type { FromRuntime, ToRuntime } from './messages.js';
import { bindKwargs } from './bind-kwargs.js';
import { describeError, firstLocation, paramNames } from './describe.js';

process.setSourceMapsEnabled(true);

const port = parentPort;
if (!port) throw new Error('worker-entry runs only as a worker thread of the claude-daemon module host');

let mod: Record<string, unknown> | undefined;

/** Each call runs in a context naming the process it was made for (lineage; protocol/call-context.ts). */
const calls = new AsyncLocalStorage<CallContext>();
(globalThis as Record<symbol, unknown>)[Symbol.for(CALL_CONTEXT_KEY)] = calls;

let send = (msg: FromRuntime): void => port.postMessage(msg);

const onMessage = (msg: ToRuntime): void => {
  if (msg.t === 'load') void load(msg.url, msg.direct);
  else if (msg.t === 'call') void calls.run({ parent: msg.parent }, () => call(msg.id, msg.fn, msg.args, msg.kwargs));
  else if (msg.t === 'dispose') void dispose();
};
port.on('message', onMessage);
// Loaded while the worker waits as the spare, so that connecting costs a reload nothing extra.
const directDeps = Promise.all([import('node:net'), import('../../protocol/framing.js')]);
void directDeps.catch(() => undefined);
send({ t: 'booted' });

async function load(url: string, direct: { path: string; w: number } | undefined): Promise<void> {
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (err) {
    const where = firstLocation(err, []);
    send({ t: 'load_error', message: `${where ? where + ': ' : ''}threw while loading: ${describeError(err)}` });
    return;
  }
  const functions = Object.entries(mod)
    .filter(([name, v]) => typeof v === 'function' && name !== 'dispose')
    .map(([name, v]) => ({ name, params: paramNames(v as () => unknown) }));
  if (direct) await connectDirect(direct);
  send({ t: 'ready', functions });
}

/**
 * Talks to the daemon over its own socket from here on (one boundary per message instead of two
 * through the host's main thread); on any failure the messages keep going through the host.
 */
async function connectDirect(direct: { path: string; w: number }): Promise<void> {
  const [{ createConnection }, { LineSplitter }] = await directDeps;
  const sock = createConnection(direct.path);
  const connected = await new Promise<boolean>((resolve) => {
    sock.once('connect', () => resolve(true));
    sock.once('error', () => resolve(false));
  });
  if (!connected) return;
  sock.on('error', () => undefined);
  const splitter = new LineSplitter(512 * 1024 * 1024);
  sock.on('data', (chunk: Buffer) => {
    for (const ev of splitter.push(chunk)) if (ev.kind === 'line') onMessage(JSON.parse(ev.text) as ToRuntime);
  });
  sock.write(JSON.stringify({ t: 'attach', w: direct.w }) + '\n');
  send = (msg) => {
    sock.write(JSON.stringify(msg) + '\n');
  };
}

async function call(id: number, fn: string, args: unknown[], kwargs: Record<string, unknown> | undefined): Promise<void> {
  const f = mod?.[fn];
  if (typeof f !== 'function') {
    send({ t: 'error', id, code: 'FUNCTION_NOT_FOUND', message: `no function '${fn}'` });
    return;
  }
  let value: unknown;
  let callArgs = args;
  if (kwargs !== undefined && Object.keys(kwargs).length > 0) {
    try {
      callArgs = bindKwargs(fn, paramNames(f as () => unknown), args, kwargs);
    } catch (err) {
      send({ t: 'error', id, code: 'FUNCTION_ERROR', message: `TypeError: ${(err as Error).message}` });
      return;
    }
  }
  try {
    value = await (f as (...a: unknown[]) => unknown)(...callArgs);
  } catch (err) {
    send({ t: 'error', id, code: 'FUNCTION_ERROR', message: describeError(err) });
    return;
  }
  let json: string;
  try {
    json = strictJson(value);
  } catch (err) {
    send({ t: 'error', id, code: 'RESULT_NOT_SERIALIZABLE', message: `${fn} returned a value that is not JSON: ${(err as Error).message}` });
    return;
  }
  send({ t: 'result', id, json });
}

async function dispose(): Promise<void> {
  const d = mod?.['dispose'];
  let error: string | undefined;
  if (typeof d === 'function') {
    try {
      await (d as () => unknown)();
    } catch (err) {
      error = describeError(err);
    }
  }
  send(error === undefined ? { t: 'disposed' } : { t: 'disposed', error });
}

/** JSON.stringify that refuses what it would otherwise drop or mangle silently. */
function strictJson(value: unknown): string {
  const json = JSON.stringify(value === undefined ? null : value, (key, v: unknown) => {
    const at = key === '' ? 'the result' : `key '${key}'`;
    if (typeof v === 'function' || typeof v === 'symbol') throw new TypeError(`${typeof v} at ${at}`);
    if (typeof v === 'bigint') throw new TypeError(`bigint at ${at} (convert it to a string or number)`);
    if (v instanceof Map || v instanceof Set) throw new TypeError(`${v instanceof Map ? 'Map' : 'Set'} at ${at} (convert it to an object or array)`);
    return v;
  });
  return json;
}
