/**
 * A result that succeeded with a caveat the caller should see: the reply carries it beside `result`
 * as `"warning": "..."` (an additive envelope field; old clients ignore it). It exists for results
 * that are the caller's own value (call_function's), which have no room for an extra field.
 */

/** Returned by a handler instead of its result; the dispatcher unwraps it into the reply. */
export class WithWarning {
  constructor(
    readonly result: unknown,
    /** One line for people; the CLI prints it on stderr. */
    readonly warning: string,
  ) {}
}
