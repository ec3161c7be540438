import { dump } from 'js-yaml';

/**
 * Rows as kubectl prints them: through Go's tabwriter with kubectl's settings (minimum cell
 * width 10, padding 3; cli-runtime `printers.GetNewTabWriter`), headers upper-cased, the last
 * column unpadded. `after` lines of a row (a diff, say) follow it as they are, outside the grid.
 */
export function textTable(headers: string[], rows: { cells: unknown[]; after?: string[] }[]): string {
  const grid = [headers.map((h) => h.toUpperCase()), ...rows.map((r) => r.cells.map(cellText))];
  const widths = headers.map((_, i) =>
    Math.max(10, ...grid.map((cells) => (i < cells.length - 1 ? (cells[i] ?? '').length + 3 : 0))),
  );
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < cells.length - 1 ? c.padEnd(widths[i]) : c)).join('');
  const out = [line(grid[0])];
  rows.forEach((r, i) => {
    out.push(line(grid[i + 1]));
    out.push(...(r.after ?? []));
  });
  return `${out.join('\n')}\n`;
}

/** A table cell as kubectl's `%v` prints it; nothing for null and undefined. */
function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/**
 * `-o json` (indented by four spaces) or `-o yaml`, keys in alphabetical order as kubectl prints
 * objects it holds as unstructured maps (the log keeps them as jsonb, in its own key order).
 */
export function formatData(value: unknown, output: 'json' | 'yaml'): string {
  const sorted = sortKeys(value);
  return output === 'json'
    ? `${JSON.stringify(sorted, null, 4)}\n`
    : dump(sorted, { noRefs: true, lineWidth: -1, quotingType: '"' });
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
  );
}

/** The `-o` values a command takes; anything else is refused the way kubectl refuses it. */
export function parseOutput<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined || value === '') return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new Error(
    `unable to match a printer suitable for the output format "${value}", allowed formats are: ${allowed.join(',')}`,
  );
}
