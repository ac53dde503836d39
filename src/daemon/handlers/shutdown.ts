import type { Handler } from '../registry.js';

/** Replies first, then stops: the caller learns the daemon heard it before the socket goes away. */
export const shutdown: Handler<'shutdown'> = (params, { services }) => {
  const killProcesses = params.kill_processes ?? false;
  services.requestShutdown({ killProcesses });
  return { shutting_down: true, kill_processes: killProcesses };
};
