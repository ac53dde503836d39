import type { Handler } from '../../registry.js';
import { requireLive, sessionClosed } from './live-session.js';

/**
 * `send_message`: one more user turn for a live session. Written at once when the session is idle,
 * else queued and written after the running turn ends, in order (see claude/live.ts).
 */
export const sendMessage: Handler<'send_message'> = (p, { services }) => {
  const sup = services.processes;
  const runs = services.claude;
  requireLive(sup, runs, p.process_id, 'send_message');
  const r = runs.live.send(p.process_id, p.text);
  if (r === 'closed') throw sessionClosed(p.process_id, 'takes no more turns: its input is closing or closed, or its process ended');
  return Promise.resolve({ process_id: p.process_id, turn: r.turn, queued: r.queued });
};
