import { printJson } from '../output.js';
import { UsageError, type Verb } from '../verb.js';

/**
 * `request`: sends any command by wire name with JSON parameters. It reaches commands that have no
 * verb of their own yet (or that a newer daemon knows and this CLI does not), with the same exit codes.
 */
export const verb: Verb = {
  usage: 'request <command> [PARAMS_JSON] [--timeout MS]',
  description: 'Sends one request by its wire command name and prints the result as JSON. PARAMS_JSON is an object of parameters, e.g. \'{"process_id": "build"}\'.',
  help: ['  --timeout MS        give up after MS milliseconds (exit code 124); default: wait as long as it takes'],
  options: { timeout: { type: 'string' } },
  positionals: true,
  async run(ctx) {
    const [command, paramsText, ...extra] = ctx.positionals;
    if (command === undefined || command === '') throw new UsageError('missing the command name');
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}' (quote the parameters as one JSON object)`);
    let params: unknown = {};
    if (paramsText !== undefined) {
      try {
        params = JSON.parse(paramsText);
      } catch (err) {
        throw new UsageError(`PARAMS_JSON is not valid JSON: ${(err as Error).message}`);
      }
      if (typeof params !== 'object' || params === null || Array.isArray(params)) throw new UsageError('PARAMS_JSON must be a JSON object');
    }
    const timeout = ctx.values['timeout'];
    const timeoutMs = timeout === undefined ? 0 : Number(timeout);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 0) throw new UsageError(`--timeout takes milliseconds, not '${String(timeout)}'`);
    const client = await ctx.client();
    printJson(ctx.out, await client.request(command, params as Record<string, unknown>, { timeoutMs }));
    return 0;
  },
};
