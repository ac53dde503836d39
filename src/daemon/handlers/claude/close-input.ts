import type { Handler } from '../../registry.js';
import { requireLive, sessionClosed } from './live-session.js';

/**
 * `close_input`: the session's input closes once its queued turns have run; claude then reads EOF
 * and exits 0. Closing twice is fine (`closed_now: false`).
 */
export const closeInput: Handler<'close_input'> = (p, { services }) => {
  const sup = services.processes;
  const runs = services.claude;
  requireLive(sup, runs, p.process_id, 'close_input');
  const r = runs.live.close(p.process_id);
  if (r === 'closed') throw sessionClosed(p.process_id, 'has ended');
  return Promise.resolve({ process_id: p.process_id, pending_turns: r.pending, closed_now: r.closedNow });
};
