/**
 * Facts about claude's own flags that both the wire schema and the CLI check. Kept free of zod so
 * the CLI can import them at run time without loading the schemas (its startup stays fast).
 */

/** claude's `--permission-mode` choices (its `--help`). */
export const PERMISSION_MODES = ['acceptEdits', 'auto', 'bypassPermissions', 'default', 'dontAsk', 'plan'] as const;

/** True when `s` is the JSON text of an object (claude refuses anything else for `--json-schema`). */
export function isJsonObjectText(s: string): boolean {
  try {
    const v: unknown = JSON.parse(s);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}
