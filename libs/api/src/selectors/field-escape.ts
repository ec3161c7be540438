import { StatusError } from '../errors/index.js';

/**
 * Field selector value escaping, as upstream's `fields.EscapeValue` / `UnescapeValue`: only
 * `\`, `,` and `=` are escapable, and the latter two must be escaped inside a value.
 */

const ESCAPABLE = new Set(['\\', ',', '=']);

/** Escapes an arbitrary string for use as a field selector value. */
export function escapeFieldValue(value: string): string {
  return value.replace(/[\\,=]/g, (ch) => `\\${ch}`);
}

function invalidEscape(sequence: string): StatusError {
  return StatusError.badRequest(`invalid field selector: invalid escape sequence: ${sequence}`);
}

/** Upstream prints the offending rune with `%v`, i.e. as its code point number (`=` is 61). */
function unescapedRune(ch: string): StatusError {
  return StatusError.badRequest(`invalid field selector: unescaped character in value: ${ch.codePointAt(0)}`);
}

/** Decodes a raw selector value; rejects unknown escapes, bare `,`/`=` and a trailing `\`. */
export function unescapeFieldValue(raw: string): string {
  let out = '';
  let inSlash = false;
  // for...of walks code points, as Go's range over a string walks runes.
  for (const ch of raw) {
    if (inSlash) {
      if (!ESCAPABLE.has(ch)) throw invalidEscape(`\\${ch}`);
      out += ch;
      inSlash = false;
    } else if (ch === '\\') {
      inSlash = true;
    } else if (ch === ',' || ch === '=') {
      throw unescapedRune(ch);
    } else {
      out += ch;
    }
  }
  if (inSlash) throw invalidEscape('\\');
  return out;
}

/** Splits on commas that are not backslash-escaped; escapes stay in the returned terms. */
export function splitFieldTerms(selector: string): string[] {
  if (selector === '') return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < selector.length; i++) {
    const ch = selector[i];
    if (inSlash) inSlash = false;
    else if (ch === '\\') inSlash = true;
    else if (ch === ',') {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
}
