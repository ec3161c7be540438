import { StatusError } from '../errors/index.js';
import { NIL_PATH } from './go-errors.js';
import { type Token, tokenize } from './label-lexer.js';
import {
  type LabelOperator,
  type LabelRequirement,
  labelKeyError,
  makeRequirement,
  requirementError,
  sortByKey,
} from './label-requirement.js';

/**
 * Where the parser is: `in` and `notin` are operators after a key but plain identifiers in
 * key and value positions (so `in in (in)` is a valid requirement), as upstream decides.
 */
type Context = 'KeyAndOperator' | 'Values';

type UnaryOperator = Extract<LabelOperator, 'Exists' | 'DoesNotExist'>;

const BINARY_OPERATORS: ReadonlyMap<string, LabelOperator> = new Map<string, LabelOperator>([
  ['In', 'In'],
  ['NotIn', 'NotIn'],
  ['Equals', 'Equals'],
  ['DoubleEquals', 'Equals'],
  ['NotEquals', 'NotEquals'],
]);

function selectorError(message: string): StatusError {
  return StatusError.badRequest(message);
}

function requirementParseError(message: string): StatusError {
  return StatusError.badRequest(`unable to parse requirement: ${message}`);
}

function startsRequirement(token: Token): boolean {
  return token.kind === 'Identifier' || token.kind === 'DoesNotExist';
}

/** Recursive-descent parser over the token list; one instance per input string. */
class LabelSelectorParser {
  private position = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  parse(): LabelRequirement[] {
    const requirements: LabelRequirement[] = [];
    for (;;) {
      const next = this.lookahead('Values');
      if (next.kind === 'EndOfString') return requirements;
      if (!startsRequirement(next)) {
        throw selectorError(`found '${next.literal}', expected: !, identifier, or 'end of string'`);
      }
      requirements.push(this.parseRequirement());
      if (this.consumeSeparator()) return requirements;
    }
  }

  /** Consumes what follows a requirement; true at the end of the input. */
  private consumeSeparator(): boolean {
    const separator = this.consume('Values');
    if (separator.kind === 'EndOfString') return true;
    if (separator.kind !== 'Comma') {
      throw selectorError(`found '${separator.literal}', expected: ',' or 'end of string'`);
    }
    const next = this.lookahead('Values');
    if (!startsRequirement(next))
      throw selectorError(`found '${next.literal}', expected: identifier after ','`);
    return false;
  }

  private parseRequirement(): LabelRequirement {
    const { key, operator: unary } = this.parseKeyAndInferOperator();
    if (unary !== undefined) return this.build(key, unary, []);
    const operator = this.parseOperator();
    const values = operator === 'In' || operator === 'NotIn' ? this.parseValues() : this.parseExactValue();
    return this.build(key, operator, [...values].sort());
  }

  private build(key: string, operator: LabelOperator, values: string[]): LabelRequirement {
    const error = requirementError(key, operator, values);
    if (error !== undefined) throw requirementParseError(error);
    return makeRequirement(key, operator, values);
  }

  /**
   * Reads `[!]key`. A bare key followed by ',' or the end means Exists. `!key` followed by
   * anything else is still DoesNotExist; the stray token is then rejected by the caller.
   */
  private parseKeyAndInferOperator(): { key: string; operator?: UnaryOperator } {
    let token = this.consume('Values');
    let operator: UnaryOperator | undefined;
    if (token.kind === 'DoesNotExist') {
      operator = 'DoesNotExist';
      token = this.consume('Values');
    }
    if (token.kind !== 'Identifier')
      throw requirementParseError(`found '${token.literal}', expected: identifier`);
    const keyError = labelKeyError(token.literal, NIL_PATH);
    if (keyError !== undefined) throw requirementParseError(keyError);
    const next = this.lookahead('Values').kind;
    if (operator === undefined && (next === 'EndOfString' || next === 'Comma')) operator = 'Exists';
    return { key: token.literal, operator };
  }

  private parseOperator(): LabelOperator {
    const token = this.consume('KeyAndOperator');
    const operator = BINARY_OPERATORS.get(token.kind);
    if (operator === undefined)
      throw requirementParseError(`found '${token.literal}', expected: in, notin, =, ==, !=`);
    return operator;
  }

  /** `(a,b)`; an empty list `()` means the single empty value, as upstream decides. */
  private parseValues(): Set<string> {
    const open = this.consume('Values');
    if (open.kind !== 'OpenPar') throw requirementParseError(`found '${open.literal}' expected: '('`);
    const first = this.lookahead('Values');
    if (first.kind === 'ClosedPar') {
      this.consume('Values');
      return new Set(['']);
    }
    if (first.kind !== 'Identifier' && first.kind !== 'Comma') {
      throw requirementParseError(`found '${first.literal}', expected: ',', ')' or identifier`);
    }
    const values = this.parseIdentifiersList();
    this.consume('Values'); // the ')' parseIdentifiersList stopped at
    return values;
  }

  /**
   * Comma-separated values up to (not including) ')'. An empty slot — `(,a)`, `(a,)`,
   * `(a,,b)` — stands for the empty value, mirroring upstream's quirks exactly.
   */
  private parseIdentifiersList(): Set<string> {
    const values = new Set<string>();
    for (;;) {
      const token = this.consume('Values');
      if (token.kind === 'Identifier') {
        values.add(token.literal);
        const next = this.lookahead('Values');
        if (next.kind === 'ClosedPar') return values;
        if (next.kind !== 'Comma')
          throw requirementParseError(`found '${next.literal}', expected: ',' or ')'`);
        continue;
      }
      if (token.kind !== 'Comma')
        throw requirementParseError(`found '${token.literal}', expected: ',', or identifier`);
      if (values.size === 0) values.add('');
      const next = this.lookahead('Values');
      if (next.kind === 'ClosedPar') {
        values.add('');
        return values;
      }
      if (next.kind === 'Comma') {
        this.consume('Values');
        values.add('');
      }
    }
  }

  /** The value after `=`, `==` or `!=`; nothing before ',' or the end means the empty value. */
  private parseExactValue(): Set<string> {
    const next = this.lookahead('Values');
    if (next.kind === 'EndOfString' || next.kind === 'Comma') return new Set(['']);
    const token = this.consume('Values');
    if (token.kind !== 'Identifier')
      throw requirementParseError(`found '${token.literal}', expected: identifier`);
    return new Set([token.literal]);
  }

  private lookahead(context: Context): Token {
    return this.inContext(this.tokens[Math.min(this.position, this.tokens.length - 1)], context);
  }

  private consume(context: Context): Token {
    const token = this.lookahead(context);
    this.position++;
    return token;
  }

  private inContext(token: Token, context: Context): Token {
    if (context === 'Values' && (token.kind === 'In' || token.kind === 'NotIn')) {
      return { kind: 'Identifier', literal: token.literal };
    }
    return token;
  }
}

/** Parses the `labelSelector` query syntax into requirements sorted by key (stable). */
export function parseLabelRequirements(input: string): LabelRequirement[] {
  return sortByKey(new LabelSelectorParser(tokenize(input)).parse());
}
