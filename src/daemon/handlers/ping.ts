import { VERSION } from '../../version.js';
import type { Handler } from '../registry.js';

/** Liveness and identity in one round trip: the CLI's `ping`, `start --detach` and the stale-socket probe use it. */
export const ping: Handler<'ping'> = (_params, { services }) => ({
  pong: true,
  version: VERSION,
  pid: process.pid,
  uptime_s: Math.round((Date.now() - services.startedAt) / 10) / 100,
  socket: services.config.socketPath,
  home: services.config.home,
  modules_dir: services.config.modulesDir,
});
