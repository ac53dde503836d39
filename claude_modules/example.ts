/**
 * An example module: `claude-daemon call example hello Claude` prints `Hello, Claude!`.
 * Edit and save it while the daemon runs; the next call answers with the new code.
 */

/** Greets someone; the daemon passes CLI arguments positionally. */
export function hello(name: string = 'world'): string {
  return `Hello, ${name}!`;
}
