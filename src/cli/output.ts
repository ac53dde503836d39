/**
 * Everything the CLI prints goes through here: JSON for machines, aligned tables for people, and
 * errors on stderr. Nothing else in src/ writes to stdout.
 */

/** Where CLI output goes; a parameter so tests could capture it. */
export interface Output {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** The process's real streams. */
export const processOutput: Output = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

/** Prints a result exactly as the daemon sent it, one line, for `jq` and friends. */
export function printJson(out: Output, value: unknown): void {
  out.stdout(JSON.stringify(value) + '\n');
}

/** Renders rows as a left-aligned table with a header; the last column is never padded. */
export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** A duration for people: 850ms, 12.3s, 4m05s, 2h07m. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
