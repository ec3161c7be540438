/**
 * Canonical JSON in the manner of RFC 8785 (JCS): object keys sorted by UTF-16 code units, no
 * whitespace, numbers and strings as ECMAScript serialises them. The same object gives the same
 * bytes whether it came from a request or back out of jsonb (which reorders keys).
 *
 * Written as plain loops appending to one string: this runs for every appended object and
 * event header, and the map/filter/join version spent most of its time allocating.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return scalar(value);
  if (Array.isArray(value)) {
    let out = '[';
    // An index loop visits holes too: [1, , 2] is [1,null,2], as JSON.stringify says.
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      const v: unknown = value[i];
      out += v === undefined ? 'null' : canonicalJson(v);
    }
    return out + ']';
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = record[k];
    if (v === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += JSON.stringify(k) + ':' + canonicalJson(v);
  }
  return out + '}';
}

function scalar(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value))
    throw new TypeError(`cannot canonicalise ${value}`);
  if (value === undefined) return 'null';
  return JSON.stringify(value);
}
