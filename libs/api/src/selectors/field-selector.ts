import { StatusError } from '../errors/index.js';
import { escapeFieldValue, splitFieldTerms, unescapeFieldValue } from './field-escape.js';

export { escapeFieldValue } from './field-escape.js';

export type FieldOperator = 'Equals' | 'NotEquals';

export interface FieldRequirement {
  /** Dotted path into the object, e.g. `spec.nodeName`. */
  field: string;
  operator: FieldOperator;
  /** Unescaped value; a missing field compares as ''. */
  value: string;
}

/** Requirements are ANDed; no requirements matches everything. */
export interface FieldSelector {
  requirements: FieldRequirement[];
}

/** Checked in this order at each position, so `==` wins over `=` and `a!=b` is not `a!` = `b`. */
const TERM_OPERATORS: readonly (readonly [string, FieldOperator])[] = [
  ['!=', 'NotEquals'],
  ['==', 'Equals'],
  ['=', 'Equals'],
];

/**
 * Stricter than upstream, which leaves field names to per-kind conversion functions: names are
 * later turned into SQL JSON paths, so only plain dotted identifiers get through.
 */
const FIELD_PATH = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

const ARRAY_INDEX = /^(0|[1-9][0-9]*)$/;

interface RawTerm {
  field: string;
  operator: FieldOperator;
  rawValue: string;
}

/** Splits at the first operator occurrence; the field part has no escaping, as upstream. */
function splitTerm(term: string): RawTerm | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const [symbol, operator] of TERM_OPERATORS) {
      if (term.startsWith(symbol, i)) {
        return { field: term.slice(0, i), operator, rawValue: term.slice(i + symbol.length) };
      }
    }
  }
  return undefined;
}

function parseTerm(selector: string, term: string): FieldRequirement {
  const raw = splitTerm(term);
  if (raw === undefined)
    throw StatusError.badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
  return { field: raw.field, operator: raw.operator, value: unescapeFieldValue(raw.rawValue) };
}

function assertFieldPath(field: string): void {
  if (FIELD_PATH.test(field)) return;
  throw StatusError.badRequest(
    `invalid field selector: invalid field name '${field}': must be a '.'-separated path of segments ` +
      "consisting of alphanumeric characters, '-' or '_'",
  );
}

// Go sorts strings by bytes; comparing UTF-8 encodings keeps the same requirement order.
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Parses the `fieldSelector` query syntax (`fields.ParseSelector` upstream): terms are sorted
 * and empty terms skipped, as upstream does. Field names are checked only after every term
 * parsed, so a syntax error is reported in preference to an unsupported name, as upstream.
 */
export function parseFieldSelector(input: string): FieldSelector {
  const terms = splitFieldTerms(input).sort(compareBytes);
  const requirements = terms.filter((t) => t !== '').map((t) => parseTerm(input, t));
  for (const req of requirements) assertFieldPath(req.field);
  return { requirements };
}

function child(container: unknown, segment: string): unknown {
  if (typeof container !== 'object' || container === null) return undefined;
  // Arrays are indexable by position only, so `length` and friends are not fields.
  if (Array.isArray(container) && !ARRAY_INDEX.test(segment)) return undefined;
  // Own properties only, so `constructor` or `__proto__` never reach the prototype.
  if (!Object.hasOwn(container, segment)) return undefined;
  return (container as Record<string, unknown>)[segment];
}

function scalarText(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    default:
      // Missing, null, objects and arrays have no selectable text; upstream compares them as ''.
      return '';
  }
}

/** The text a field selector compares against: '' when missing or null, scalars stringified. */
export function fieldValue(obj: unknown, field: string): string {
  let current: unknown = obj;
  for (const segment of field.split('.')) current = child(current, segment);
  return scalarText(current);
}

/** True when `obj` satisfies every requirement. */
export function matchesFields(sel: FieldSelector, obj: unknown): boolean {
  return sel.requirements.every((req) => {
    const actual = fieldValue(obj, req.field);
    return req.operator === 'Equals' ? actual === req.value : actual !== req.value;
  });
}

/** The canonical string (`Selector.String()` upstream): `==` prints as `=`, values escaped. */
export function formatFieldSelector(sel: FieldSelector): string {
  return sel.requirements
    .map((req) => `${req.field}${req.operator === 'Equals' ? '=' : '!='}${escapeFieldValue(req.value)}`)
    .join(',');
}
