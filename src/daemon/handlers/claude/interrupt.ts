import type { Handler } from '../../registry.js';
import { requireLive, sessionClosed } from './live-session.js';

/**
 * `interrupt`: asks claude to stop the running turn (an `interrupt` control request on its input).
 * The turn ends `interrupted`; the session stays and runs the next queued turn.
 */
export const interrupt: Handler<'interrupt'> = async (p, { services }) => {
  const sup = services.processes;
  const runs = services.claude;
  requireLive(sup, runs, p.process_id, 'interrupt');
  await runs.refresh(p.process_id);
  const turn = runs.live.interrupt(p.process_id);
  if (turn === 'closed') throw sessionClosed(p.process_id, 'has ended');
  return { process_id: p.process_id, turn, interrupted: turn !== null };
};
