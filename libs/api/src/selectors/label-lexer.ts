/**
 * Tokenizer for the label selector language, splitting input exactly where upstream's
 * `labels.Lexer` does so that parse errors name the same offending token.
 */

export type TokenKind =
  | 'EndOfString'
  | 'ClosedPar'
  | 'Comma'
  | 'DoesNotExist'
  | 'DoubleEquals'
  | 'Equals'
  | 'GreaterThan'
  | 'Identifier'
  | 'In'
  | 'LessThan'
  | 'NotEquals'
  | 'NotIn'
  | 'OpenPar';

export interface Token {
  kind: TokenKind;
  literal: string;
}

const LITERALS: ReadonlyMap<string, TokenKind> = new Map<string, TokenKind>([
  [')', 'ClosedPar'],
  [',', 'Comma'],
  ['!', 'DoesNotExist'],
  ['==', 'DoubleEquals'],
  ['=', 'Equals'],
  ['>', 'GreaterThan'],
  ['in', 'In'],
  ['<', 'LessThan'],
  ['!=', 'NotEquals'],
  ['notin', 'NotIn'],
  ['(', 'OpenPar'],
]);

function isWhitespace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
}

// '>' and '<' are not operators Wake accepts, but upstream lexes them as symbols, so `a>1` must
// fail as "found '>'" rather than as an odd-looking key.
function isSpecial(ch: string): boolean {
  return '=!(),><'.includes(ch);
}

/** Operators are one symbol, or two when the pair is itself an operator (`==`, `!=`). */
function scanSymbol(input: string, pos: number): Token {
  const pair = input.slice(pos, pos + 2);
  const pairKind = pair.length === 2 ? LITERALS.get(pair) : undefined;
  if (pairKind !== undefined) return { kind: pairKind, literal: pair };
  const single = input[pos];
  return { kind: LITERALS.get(single) ?? 'Identifier', literal: single };
}

/** A run of anything that is neither whitespace nor a symbol: a key, a value, `in` or `notin`. */
function scanWord(input: string, pos: number): Token {
  let end = pos;
  while (end < input.length && !isSpecial(input[end]) && !isWhitespace(input[end])) end++;
  const literal = input.slice(pos, end);
  return { kind: LITERALS.get(literal) ?? 'Identifier', literal };
}

/** All tokens of `input`, always ending with a single EndOfString token. */
export function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  for (;;) {
    while (pos < input.length && isWhitespace(input[pos])) pos++;
    if (pos >= input.length) break;
    const token = isSpecial(input[pos]) ? scanSymbol(input, pos) : scanWord(input, pos);
    tokens.push(token);
    pos += token.literal.length;
  }
  tokens.push({ kind: 'EndOfString', literal: '' });
  return tokens;
}
