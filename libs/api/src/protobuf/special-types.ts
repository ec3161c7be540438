/**
 * The apimachinery types whose JSON is not their protobuf message, both ways. Decoded messages
 * are protobufjs objects: a field is an own property exactly when it was on the wire.
 */
import { type SpecialType } from './schema.js';

export type Decoded = Record<string, unknown>;

/** JSON for a special-typed value that was on the wire. */
export function specialToJson(type: SpecialType, m: Decoded): unknown {
  switch (type) {
    case 'Time':
      // Go drops the nanoseconds, as JSON cannot carry them; no fields is the zero time: null.
      return has(m, 'seconds') || has(m, 'nanos') ? formatTime(toNumber(m.seconds)) : null;
    case 'MicroTime':
      return has(m, 'seconds') || has(m, 'nanos')
        ? formatTime(toNumber(m.seconds), Math.floor(toNumber(m.nanos) / 1000))
        : null;
    case 'Duration':
      return formatDuration(toNumber(m.duration));
    case 'Quantity':
      return typeof m.string === 'string' && m.string !== '' ? m.string : '0';
    case 'IntOrString':
      return toNumber(m.type) === 1 ? (typeof m.strVal === 'string' ? m.strVal : '') : toNumber(m.intVal);
    case 'RawExtension':
      return rawJson(m.raw, 'RawExtension');
    case 'FieldsV1':
      return rawJson(m.Raw, 'FieldsV1');
  }
}

/** JSON for a non-pointer special-typed field that was not sent: Go's zero value. */
export function specialZero(type: SpecialType): unknown {
  switch (type) {
    case 'Duration':
      return '0s';
    case 'Quantity':
      return '0';
    case 'IntOrString':
      return 0;
    default:
      return null;
  }
}

/** The protobufjs plain object for a special-typed JSON value (for encoding). */
export function specialFromJson(type: SpecialType, v: unknown): Decoded {
  switch (type) {
    case 'Time':
    case 'MicroTime': {
      if (v === null) return {};
      const ms = typeof v === 'string' ? Date.parse(v) : NaN;
      if (Number.isNaN(ms)) throw new Error(`not an RFC 3339 time: ${JSON.stringify(v)}`);
      const micros =
        type === 'MicroTime' ? Number(/\.(\d{1,6})/.exec(v as string)?.[1]?.padEnd(6, '0') ?? 0) : 0;
      return { seconds: Math.floor(ms / 1000), nanos: micros * 1000 };
    }
    case 'Duration':
      return { duration: parseDuration(String(v)) };
    case 'Quantity':
      return { string: String(v) };
    case 'IntOrString':
      // Go writes all three fields.
      return typeof v === 'number'
        ? { type: 0, intVal: v, strVal: '' }
        : { type: 1, intVal: 0, strVal: String(v) };
    case 'RawExtension':
      return v === null ? {} : { raw: Buffer.from(JSON.stringify(v)) };
    case 'FieldsV1':
      return v === null ? {} : { Raw: Buffer.from(JSON.stringify(v)) };
  }
}

export function has(m: Decoded, key: string): boolean {
  return Object.hasOwn(m, key) && m[key] !== null && m[key] !== undefined;
}

/** int64 fields decode to Long objects (protobufjs uses long.js when installed). */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object' && 'toNumber' in v) return (v as { toNumber(): number }).toNumber();
  return 0;
}

function rawJson(bytes: unknown, what: string): unknown {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) return null;
  const text = Buffer.from(bytes).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what} does not hold JSON`);
  }
}

/** RFC 3339 in UTC as Go renders metav1.Time (whole seconds) and MicroTime (six fraction digits). */
function formatTime(seconds: number, micros?: number): string {
  const iso = new Date(seconds * 1000).toISOString().slice(0, 19);
  return micros === undefined ? `${iso}Z` : `${iso}.${String(micros).padStart(6, '0')}Z`;
}

const UNITS: [string, number][] = [
  ['h', 3600e9],
  ['m', 60e9],
  ['s', 1e9],
  ['ms', 1e6],
  ['us', 1e3],
  ['µs', 1e3],
  ['ns', 1],
];

/** Go's time.Duration.String(): "1h2m3.5s", "1.5ms", "0s". */
export function formatDuration(ns: number): string {
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  let n = Math.abs(ns);
  if (n < 1e9) {
    const [unit, size] = n < 1e3 ? ['ns', 1] : n < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    return `${sign}${trimFraction(n / size)}${unit}`;
  }
  let out = '';
  const h = Math.floor(n / 3600e9);
  n -= h * 3600e9;
  const m = Math.floor(n / 60e9);
  n -= m * 60e9;
  if (h > 0) out += `${h}h`;
  if (h > 0 || m > 0) out += `${m}m`;
  return `${sign}${out}${trimFraction(n / 1e9)}s`;
}

function trimFraction(x: number): string {
  return String(Number(x.toFixed(9)));
}

/** The inverse of formatDuration for the units Go accepts. */
export function parseDuration(text: string): number {
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(h|m|s|ms|us|µs|ns)/gy;
  const sign = text.startsWith('-') ? -1 : 1;
  const body = text.replace(/^[-+]/, '');
  let total = 0;
  let end = 0;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    total += Number(m[1]) * UNITS.find(([u]) => u === m![2])![1];
    end = re.lastIndex;
  }
  if (end === 0 || end !== body.length) throw new Error(`not a duration: ${JSON.stringify(text)}`);
  return sign * Math.round(total);
}
