/**
 * Label key ("qualified name") and label value checks, returning the same list of reasons as
 * apimachinery's `content.IsLabelKey` / `content.IsLabelValue`, word for word.
 */

export const LABEL_NAME_MAX_BYTES = 63;
export const LABEL_PREFIX_MAX_BYTES = 253;
export const LABEL_VALUE_MAX_BYTES = 63;

const NAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const NAME_RE = new RegExp(`^${NAME_FMT}$`);
const NAME_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const NAME_EXAMPLES = ['MyName', 'my.name', '123-abc'];

const VALUE_FMT = `(${NAME_FMT})?`;
const VALUE_RE = new RegExp(`^${VALUE_FMT}$`);
const VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

const DNS_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS_SUBDOMAIN_FMT = `${DNS_LABEL_FMT}(\\.${DNS_LABEL_FMT})*`;
const DNS_SUBDOMAIN_RE = new RegExp(`^${DNS_SUBDOMAIN_FMT}$`);
const DNS_SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";

// Go measures strings in bytes; counting UTF-16 units would let multi-byte input slip past.
function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

export function maxLenError(max: number): string {
  return `must be no more than ${max} bytes`;
}

/** Upstream's `RegexError`, including its doubled spaces between examples. */
export function regexError(msg: string, fmt: string, examples: readonly string[]): string {
  const shown = examples.map((e) => `'${e}', `).join(' or ');
  return `${msg} (e.g. ${shown}regex used for validation is '${fmt}')`;
}

/** Reasons `value` is not a lowercase RFC 1123 subdomain (object names of most kinds). */
export function dnsSubdomainErrors(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > LABEL_PREFIX_MAX_BYTES) errs.push(maxLenError(LABEL_PREFIX_MAX_BYTES));
  if (!DNS_SUBDOMAIN_RE.test(value))
    errs.push(regexError(DNS_SUBDOMAIN_MSG, DNS_SUBDOMAIN_FMT, ['example.com']));
  return errs;
}

function prefixErrors(prefix: string): string[] {
  if (prefix === '') return ['prefix part must be non-empty'];
  return dnsSubdomainErrors(prefix).map((e) => `prefix part ${e}`);
}

function nameErrors(name: string): string[] {
  const errs: string[] = [];
  if (name === '') errs.push('name part must be non-empty');
  else if (byteLength(name) > LABEL_NAME_MAX_BYTES)
    errs.push(`name part ${maxLenError(LABEL_NAME_MAX_BYTES)}`);
  if (!NAME_RE.test(name)) errs.push(`name part ${regexError(NAME_MSG, NAME_FMT, NAME_EXAMPLES)}`);
  return errs;
}

/** Reasons `key` is not a valid label key (optional DNS subdomain prefix, '/', name); empty if valid. */
export function labelKeyErrors(key: string): string[] {
  const parts = key.split('/');
  if (parts.length > 2) {
    return [
      `a valid label key ${regexError(NAME_MSG, NAME_FMT, NAME_EXAMPLES)} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (parts.length === 1) return nameErrors(key);
  return [...prefixErrors(parts[0]), ...nameErrors(parts[1])];
}

/** Reasons `value` is not a valid label value; empty if valid (the empty string is valid). */
export function labelValueErrors(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > LABEL_VALUE_MAX_BYTES) errs.push(maxLenError(LABEL_VALUE_MAX_BYTES));
  if (!VALUE_RE.test(value)) errs.push(regexError(VALUE_MSG, VALUE_FMT, ['MyValue', 'my_value', '12345']));
  return errs;
}
