/**
 * Turns a schema failure into one sentence that names the field and what it expected, so a caller
 * (often another agent) can fix its request without reading our source.
 */
import type { z } from 'zod';

/** Outcome of validating request parameters. */
export type Validated<T> = { ok: true; value: T } | { ok: false; message: string };

/** Validates `raw` and returns typed parameters or a human message naming each bad field. */
export function validateParams<S extends z.ZodType>(command: string, schema: S, raw: unknown): Validated<z.output<S>> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, value: parsed.data };
  const parts = parsed.error.issues.slice(0, 5).map((issue) => {
    const field = issue.path.length > 0 ? issue.path.map(String).join('.') : '(request)';
    return `\`${field}\`: ${lowerFirst(issue.message)}`;
  });
  return { ok: false, message: `invalid parameters for ${command}: ${parts.join('; ')}` };
}

function lowerFirst(s: string): string {
  return s.length > 0 ? s[0]!.toLowerCase() + s.slice(1) : s;
}
