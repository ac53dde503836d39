// The benchmark's floor: the least a JSON Lines server over a Unix socket can do per request (split
// lines, parse each, write one reply line carrying its id). Plain Node, no framework, no validation.
import fs from 'node:fs';
import net from 'node:net';

const socketPath = process.argv[2];
fs.rmSync(socketPath, { force: true });
net
  .createServer((sock) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const req = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        sock.write(JSON.stringify({ success: true, result: { pong: true }, id: req.id }) + '\n');
      }
    });
    sock.on('error', () => undefined);
  })
  .listen(socketPath, () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => process.exit(0));
