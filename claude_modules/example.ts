/**
 * An example module: `claude-daemon call example hello Claude` prints `Hello, Claude!`, and so does
 * `claude-daemon call example hello --kwargs '{"name": "Claude"}'` (keyword arguments bind by name).
 * Edit and save it while the daemon runs; the next call answers with the new code.
 */

/** Greets someone; CLI arguments arrive positionally, `--kwargs` by parameter name. */
export function hello(name: string = 'world'): string {
  return `Hello, ${name}!`;
}
