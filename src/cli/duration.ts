/**
 * Durations as people type them on the command line (`90`, `90s`, `30m`, `12h`, `7d`, `1w`), for
 * `start --keep-ended-for` and `clean --older-than`. Kept apart so both verbs read them alike.
 */

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** Seconds in `text` (a number with an optional unit s/m/h/d/w; plain numbers are seconds), or undefined. */
export function parseDuration(text: string): number | undefined {
  const m = /^([0-9]+(?:\.[0-9]+)?)([smhdw]?)$/.exec(text.trim());
  if (m === null) return undefined;
  return Number(m[1]) * UNITS[m[2] || 's']!;
}
