import { CommandError } from '../../command-error.js';
import type { Handler } from '../../registry.js';
import { requireLive } from './live-session.js';

/**
 * `answer_permission`: allows or denies one pending permission prompt of a `permissions: "ask"`
 * run, by writing claude the control response on its input (claude/permissions.ts).
 */
export const answerPermission: Handler<'answer_permission'> = async (p, { services }) => {
  const sup = services.processes;
  const runs = services.claude;
  const info = requireLive(sup, runs, p.process_id, 'answer_permission');
  // A prompt claude has written but the follower not yet read is found after this.
  await runs.refresh(p.process_id);
  const asked = runs.permissions.answer(p.process_id, p.request_id, { behavior: p.behavior, updated_input: p.updated_input, message: p.message });
  if (asked === undefined) {
    const why = info.permissions === 'ask' ? 'answered, timed out or withdrawn already, or never asked' : 'it was spawned without permissions: "ask", so its prompts are not routed to the daemon';
    const open = (info.pending_permissions ?? []).map((x) => x.request_id);
    throw new CommandError('PERMISSION_NOT_FOUND', `claude run ${p.process_id} has no pending permission prompt ${JSON.stringify(p.request_id)} (${why}); pending now: ${open.length > 0 ? open.join(', ') : 'none'} (see pending_permissions in process_info)`);
  }
  return { process_id: p.process_id, request_id: p.request_id, tool_name: asked.tool_name, behavior: p.behavior };
};
