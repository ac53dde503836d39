import { formatDuration, printJson, renderTable } from '../output.js';
import type { Verb } from '../verb.js';

/** `modules`: what is loaded, which version serves, and whether a newer file failed to load. */
export const verb: Verb = {
  usage: 'modules [--json]',
  description: 'Lists loaded modules: version, language, calls served, age of the serving version, functions, and the load error of a newer file when there is one (the listed version keeps serving).',
  async run(ctx) {
    const r = await (await ctx.client()).listModules();
    if (ctx.json) {
      printJson(ctx.out, r);
      return 0;
    }
    if (r.modules.length === 0) {
      ctx.out.stdout('no modules loaded\n');
      return 0;
    }
    const now = Date.now();
    const rows = r.modules.map((m) => [m.module, `v${m.version}`, m.language, String(m.calls_served), formatDuration(now - Date.parse(m.loaded_at)), m.functions.map((f) => f.name).join(', ')]);
    ctx.out.stdout(renderTable(['MODULE', 'VERSION', 'LANGUAGE', 'CALLS', 'AGE', 'FUNCTIONS'], rows));
    for (const m of r.modules) if (m.last_error !== undefined) ctx.out.stdout(`\n${m.module}: newer file failed to load (v${m.version} keeps serving):\n  ${m.last_error.split('\n').join('\n  ')}\n`);
    return 0;
  },
};
