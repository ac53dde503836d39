/** The group tools: see the groups (parallel limit, pause, budget, counts) and change one. */
import { COMMAND_SCHEMAS } from '../protocol/commands.js';
import { GroupListOut, GroupOut } from './outputs.js';
import { groupLine } from './summaries.js';
import { defineTool, wire, type ToolDef } from './tool.js';

/** Descriptions of group_set's parameters. */
const GROUP_FIELD_DOCS: Record<string, string> = {
  group: 'the group name (records join one with spawn_* `group`)',
  parallel: 'at most this many of its records run at once; 0 = unlimited',
  paused: 'true: none of its queued records start (running ones go on); false: resume',
  budget_usd: "spending budget in dollars for the group's claude runs; null clears it",
};

const groupList = defineTool({
  name: 'group_list',
  description: 'The groups (configured, or with records queued or running): running and queued counts, parallel limit, paused, budget and spending, and why ready records are held.',
  input: COMMAND_SCHEMAS.group_list,
  output: GroupListOut,
  annotations: { title: 'List groups', readOnlyHint: true, openWorldHint: false },
  retryable: true,
  async run(params, ctx) {
    const r = await wire(ctx, 'group_list', params);
    const head = `${r.groups.length} group${r.groups.length === 1 ? '' : 's'}`;
    return { structured: { ...r }, text: [head, ...r.groups.map(groupLine)].join('\n') };
  },
});

const groupSet = defineTool({
  name: 'group_set',
  description: "Create or change a group: its parallel limit, paused, budget_usd (omitted fields keep their value). Pausing stops its queued records from starting; running ones are not touched. Returns the group.",
  input: COMMAND_SCHEMAS.group_set,
  output: GroupOut,
  annotations: { title: 'Configure a group', readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  fieldDocs: GROUP_FIELD_DOCS,
  async run(params, ctx) {
    const r = await wire(ctx, 'group_set', params);
    return { structured: { ...r }, text: groupLine(r) };
  },
});

/** The group tools. */
export const GROUP_TOOLS: ToolDef[] = [groupList, groupSet];
