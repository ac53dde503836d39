/** `ping`: which daemon answers, and that it does. */
import { COMMAND_SCHEMAS } from '../protocol/commands.js';
import { PingOut } from './outputs.js';
import { duration } from './summaries.js';
import { defineTool, type ToolDef } from './tool.js';

const ping = defineTool({
  name: 'ping',
  description: "Check that the daemon answers: its version, pid, uptime, socket, state directory (home) and modules directory. Starts a daemon if none runs (as every tool does).",
  input: COMMAND_SCHEMAS.ping,
  output: PingOut,
  annotations: { title: 'Ping the daemon', readOnlyHint: true, openWorldHint: false },
  retryable: true,
  async run(params, ctx) {
    const r = await (await ctx.daemon.client()).ping(params);
    return {
      structured: { ...r },
      text: `pong: claude-daemon ${r.version}, pid ${r.pid}, up ${duration(r.uptime_s * 1000)}, socket ${r.socket}, home ${r.home}, modules ${r.modules_dir}`,
    };
  },
});

/** The core tools. */
export const CORE_TOOLS: ToolDef[] = [ping];
