/**
 * Renders validation failures the way apimachinery's `field.Error` and `utilerrors.Aggregate`
 * print them, so a Wake error message reads exactly like the one a real API server returns.
 */

/** How Go prints a nil `*field.Path`; upstream's selector parser passes no path. */
export const NIL_PATH = '<nil>';

const SHORT_ESCAPES: ReadonlyMap<string, string> = new Map([
  ['"', '\\"'],
  ['\\', '\\\\'],
  ['\x07', '\\a'],
  ['\b', '\\b'],
  ['\f', '\\f'],
  ['\n', '\\n'],
  ['\r', '\\r'],
  ['\t', '\\t'],
  ['\v', '\\v'],
]);

function hex(codePoint: number, width: number): string {
  return codePoint.toString(16).padStart(width, '0');
}

function quoteRune(ch: string): string {
  const short = SHORT_ESCAPES.get(ch);
  if (short !== undefined) return short;
  const cp = ch.codePointAt(0) ?? 0;
  if (cp < 0x20 || cp === 0x7f) return `\\x${hex(cp, 2)}`;
  if (cp >= 0x80 && cp < 0xa0) return `\\u${hex(cp, 4)}`;
  return ch;
}

/** Go's `%q` for a string: double-quoted, with control characters escaped. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) out += quoteRune(ch);
  return `${out}"`;
}

/**
 * Go's `%#v` for the `[]string` upstream hands to `field.Invalid`. Upstream copies values with
 * `append([]string(nil), values...)`, so an empty list is always the nil slice.
 */
export function goStringSlice(values: readonly string[]): string {
  if (values.length === 0) return '[]string(nil)';
  return `[]string{${values.map(goQuote).join(', ')}}`;
}

/** `field.Invalid(path, value, detail).Error()`; `renderedValue` is already formatted. */
export function invalidValue(path: string, renderedValue: string, detail: string): string {
  const body = `Invalid value: ${renderedValue}`;
  return detail ? `${path}: ${body}: ${detail}` : `${path}: ${body}`;
}

/** `utilerrors.NewAggregate(errs).Error()`: duplicates dropped, several wrapped in brackets. */
export function aggregate(messages: readonly string[]): string | undefined {
  const unique = [...new Set(messages)];
  if (unique.length === 0) return undefined;
  if (unique.length === 1) return unique[0];
  return `[${unique.join(', ')}]`;
}
