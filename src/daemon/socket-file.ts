/**
 * Claiming the socket path safely: a live daemon is never displaced, a stale socket is replaced, and
 * a path that is not a socket is never deleted. The socket is bound under a 0177 umask so it is
 * 0600 from the instant it exists (a chmod afterwards would leave a window).
 */
import fs from 'node:fs';
import net from 'node:net';

/** Why the daemon refused to start; the CLI prints the message and exits non-zero. */
export class StartError extends Error {
  override name = 'StartError';
}

/** Removes a stale socket or refuses (live daemon, or not a socket at all). */
export async function claimSocketPath(socketPath: string): Promise<void> {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(socketPath);
  } catch {
    return; // Nothing there.
  }
  if (!st.isSocket()) {
    throw new StartError(`${socketPath} exists and is not a socket; refusing to touch it. Remove it yourself or choose another --socket.`);
  }
  if (st.uid !== process.getuid?.()) {
    throw new StartError(`${socketPath} belongs to uid ${st.uid}, not to you; refusing to replace it. Choose another --socket.`);
  }
  const pid = await probeLiveDaemon(socketPath);
  if (pid !== undefined) {
    throw new StartError(`a daemon is already running on ${socketPath} (pid ${pid === 0 ? 'unknown' : pid}); stop it with \`claude-daemon shutdown\` first.`);
  }
  fs.unlinkSync(socketPath);
}

/** Binds `server` to the path with owner-only permissions from the start. */
export function listenPrivately(server: net.Server, socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void =>
      reject(
        new StartError(
          err.code === 'EADDRINUSE'
            ? `another daemon claimed ${socketPath} while this one was starting; stop it with \`claude-daemon shutdown\` or choose another --socket.`
            : `cannot listen on ${socketPath} (${err.code ?? err.message}); check that its directory exists and is writable, or choose another --socket.`,
        ),
      );
    server.once('error', onError);
    const oldMask = process.umask(0o177);
    try {
      server.listen(socketPath, () => {
        server.off('error', onError);
        resolve();
      });
    } finally {
      process.umask(oldMask);
    }
  });
}

/**
 * Connects and pings: resolves the live daemon's pid (0 if it answered but not with a pid), or
 * undefined when nobody is listening (stale socket).
 */
function probeLiveDaemon(socketPath: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const sock = net.createConnection(socketPath);
    let buf = '';
    const done = (v: number | undefined): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(0), 2000);
    sock.on('connect', () => sock.write('{"command":"ping","id":"probe"}\n'));
    sock.on('data', (d) => {
      buf += d.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl === -1) return;
      try {
        const reply = JSON.parse(buf.slice(0, nl)) as { result?: { pid?: unknown } };
        done(typeof reply.result?.pid === 'number' ? reply.result.pid : 0);
      } catch {
        done(0);
      }
    });
    sock.on('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? undefined : 0));
  });
}

