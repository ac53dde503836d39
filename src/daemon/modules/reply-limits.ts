/**
 * Bounds on what a module's reply may make the daemon hold or pass on: how deep a result may nest
 * (the daemon encodes replies on its own stack) and how long an error's text may be (a chain of
 * calls that rethrow nests every level's message in the next). Checked on the raw text, before
 * anything is parsed.
 */

/** Longest error message a module's call passes on (head and tail kept), whatever it threw. */
export const MAX_ERROR_MESSAGE_CHARS = 8 * 1024;

/**
 * Error text from a module, bounded: a chain of calls that rethrow what they caught nests every
 * level's message and stack in the next, so unclipped a 1,000-deep chain sent ~100 MB of text.
 */
export function clipMessage(text: string): string {
  if (text.length <= MAX_ERROR_MESSAGE_CHARS) return text;
  const head = text.slice(0, (MAX_ERROR_MESSAGE_CHARS * 3) / 4);
  const tail = text.slice(text.length - MAX_ERROR_MESSAGE_CHARS / 4);
  return `${head}\n… ${text.length - head.length - tail.length} characters omitted …\n${tail}`;
}

/** Deepest result a module may return (Python's json reads about as deep); deeper ones are refused. */
export const MAX_RESULT_DEPTH = 1000;

/** True when the JSON text nests arrays/objects deeper than `max` (strings and escapes skipped). */
export function nestingOver(json: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const ch = json.charCodeAt(i);
    if (inString) {
      if (ch === 92 /* \\ */) i++;
      else if (ch === 34 /* " */) inString = false;
    } else if (ch === 34) inString = true;
    else if (ch === 91 /* [ */ || ch === 123 /* { */) {
      if (++depth > max) return true;
    } else if (ch === 93 /* ] */ || ch === 125 /* } */) depth--;
  }
  return false;
}
