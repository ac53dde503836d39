import { printJson } from '../output.js';
import { UsageError, type Verb } from '../verb.js';

/** `unload NAME`: stops a module; calls already running finish first. */
export const verb: Verb = {
  usage: 'unload NAME [--json]',
  description: "Unloads a module: calls already running finish, then its dispose() runs and its worker or python3 process ends.",
  positionals: true,
  async run(ctx) {
    const [name, ...extra] = ctx.positionals;
    if (name === undefined || extra.length > 0) throw new UsageError('give exactly one module name');
    const r = await (await ctx.client()).unloadModule(name);
    if (ctx.json) printJson(ctx.out, r);
    else ctx.out.stdout(`unloaded ${r.module} (was v${r.version})\n`);
    return 0;
  },
};
