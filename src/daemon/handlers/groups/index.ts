/** The group commands' handlers (the scheduler's settings per group; see src/daemon/scheduler). */
import type { Handler } from '../../registry.js';

/** `group_set`: changes `parallel` and/or `paused` of a group (created on first use); persisted before the reply. */
export const groupSet: Handler<'group_set'> = (p, { services }) => services.processes.setGroup(p.group, p);

/** `group_list`: per group its limit, running and queued counts, and why its queue is held. */
export const groupList: Handler<'group_list'> = (_p, { services }) => services.processes.listGroups();

/** Spread into the daemon's handler table. */
export const GROUP_HANDLERS = {
  group_set: groupSet,
  group_list: groupList,
};
