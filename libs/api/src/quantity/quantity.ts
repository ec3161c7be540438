/**
 * Kubernetes `resource.Quantity` (apimachinery pkg/api/resource) reduced to what schedulers
 * and quota need: a quantity string (or a JSON number) as an integer count of base units or of
 * thousandths of them. Arithmetic is exact (bigint) up to the result, a JavaScript number (exact
 * up to 2^53; larger Ei-sized values lose precision), and rounds up like upstream's `Value()` and
 * `MilliValue()`, so "0.1m" CPU is 1 milli-CPU and "1.5Gi" is exactly 1610612736 bytes.
 */

const FORMAT = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([numkMGTPE])|[eE]([+-]?\d+))?$/;

const DECIMAL_EXPONENT: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};

const BINARY_EXPONENT: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };

/** Larger exponents are meaningless for resources and would make bigint arithmetic explode. */
const MAX_DECIMAL_EXPONENT = 100;

export class QuantityFormatError extends Error {
  constructor(readonly input: string) {
    super(
      `invalid quantity ${JSON.stringify(input)}: quantities must match the regular expression ` +
        `'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
    );
    this.name = 'QuantityFormatError';
  }
}

/** A quantity as an exact fraction: numerator / denominator, denominator > 0. */
interface Exact {
  numerator: bigint;
  denominator: bigint;
}

function exactValue(input: string | number): Exact {
  const text = typeof input === 'number' ? numberText(input) : input;
  const m = FORMAT.exec(text);
  if (m === null) throw new QuantityFormatError(String(input));
  const [, sign, number, binary, decimal, exponentText] = m;
  const [whole, fraction = ''] = number.split('.');
  let numerator = BigInt((whole || '0') + fraction);
  let denominator = 10n ** BigInt(fraction.length);
  if (sign === '-') numerator = -numerator;

  if (binary !== undefined) {
    numerator *= 1n << BigInt(BINARY_EXPONENT[binary]);
  } else {
    const exponent = decimal !== undefined ? DECIMAL_EXPONENT[decimal] : Number(exponentText ?? '0');
    if (Math.abs(exponent) > MAX_DECIMAL_EXPONENT) throw new QuantityFormatError(String(input));
    if (exponent >= 0) numerator *= 10n ** BigInt(exponent);
    else denominator *= 10n ** BigInt(-exponent);
  }
  return { numerator, denominator };
}

function numberText(n: number): string {
  if (!Number.isFinite(n)) throw new QuantityFormatError(String(n));
  return String(n); // JavaScript renders large and tiny numbers as 1e+21 / 1e-7, which the grammar accepts.
}

/** Rounds away from zero, as upstream's scaled values do ("rounding up" applies to magnitude). */
function roundUp({ numerator, denominator }: Exact): number {
  const quotient = numerator / denominator;
  const exact = quotient * denominator === numerator;
  const rounded = exact ? quotient : numerator < 0n ? quotient - 1n : quotient + 1n;
  return Number(rounded);
}

/** The quantity in base units (bytes, counts), rounded up: upstream's `Value()`. */
export function parseValue(input: string | number): number {
  return roundUp(exactValue(input));
}

/** The quantity in thousandths (milli-CPU), rounded up: upstream's `MilliValue()`. */
export function parseMilli(input: string | number): number {
  const { numerator, denominator } = exactValue(input);
  return roundUp({ numerator: numerator * 1000n, denominator });
}

/** True when `input` is a well-formed quantity. */
export function isQuantity(input: unknown): boolean {
  if (typeof input !== 'string' && typeof input !== 'number') return false;
  try {
    exactValue(input);
    return true;
  } catch {
    return false;
  }
}
