import { printJson } from '../output.js';
import { UsageError, type Verb } from '../verb.js';

/** `load NAME`: loads or reloads a module and shows what it exports. */
export const verb: Verb = {
  usage: 'load NAME [--json]',
  description: 'Loads the module NAME (NAME.ts, .mts, .js, .mjs or .py in the modules directory), or reloads it: an explicit load always makes a new version. A file that fails to load leaves the serving version in place and prints file:line:column.',
  positionals: true,
  async run(ctx) {
    const [name, ...extra] = ctx.positionals;
    if (name === undefined || extra.length > 0) throw new UsageError('give exactly one module name');
    const r = await (await ctx.client()).loadModule(name);
    if (ctx.json) printJson(ctx.out, r);
    else ctx.out.stdout(`loaded ${r.module} v${r.version} (${r.language}) from ${r.path}\n${r.functions.map((f) => `  ${f.name}(${f.params.join(', ')})\n`).join('')}`);
    return 0;
  },
};
