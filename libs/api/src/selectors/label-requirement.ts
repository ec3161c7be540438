import { aggregate, goQuote, goStringSlice, invalidValue } from './go-errors.js';
import { labelKeyErrors, labelValueErrors } from './label-validation.js';

export type LabelOperator = 'Equals' | 'NotEquals' | 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

/** One clause of a label selector. */
export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  /** Sorted and deduplicated; exactly one for Equals/NotEquals, none for Exists/DoesNotExist. */
  values: string[];
}

/** The `field.Invalid` message for a bad label key, or undefined when the key is valid. */
export function labelKeyError(key: string, path: string): string | undefined {
  const errs = labelKeyErrors(key);
  return errs.length === 0 ? undefined : invalidValue(path, goQuote(key), errs.join('; '));
}

function valueCountError(operator: LabelOperator, values: readonly string[]): string | undefined {
  const rendered = goStringSlice(values);
  switch (operator) {
    case 'In':
    case 'NotIn':
      return values.length === 0
        ? invalidValue('values', rendered, "for 'in', 'notin' operators, values set can't be empty")
        : undefined;
    case 'Equals':
    case 'NotEquals':
      return values.length !== 1
        ? invalidValue('values', rendered, 'exact-match compatibility requires one single value')
        : undefined;
    case 'Exists':
    case 'DoesNotExist':
      return values.length !== 0
        ? invalidValue('values', rendered, 'values set must be empty for exists and does not exist')
        : undefined;
  }
}

function valueError(key: string, value: string, index: number): string | undefined {
  const errs = labelValueErrors(value);
  return errs.length === 0
    ? undefined
    : invalidValue(`values[${index}][${key}]`, goQuote(value), errs.join('; '));
}

/**
 * Everything upstream's `NewRequirement` would reject, as its aggregated error message, or
 * undefined when the requirement is valid. Value indexes refer to `values` as given.
 */
export function requirementError(
  key: string,
  operator: LabelOperator,
  values: readonly string[],
): string | undefined {
  const errs = [
    labelKeyError(key, 'key'),
    valueCountError(operator, values),
    ...values.map((v, i) => valueError(key, v, i)),
  ];
  return aggregate(errs.filter((e): e is string => e !== undefined));
}

/** Builds a requirement in canonical form (values sorted, deduplicated); does not validate. */
export function makeRequirement(
  key: string,
  operator: LabelOperator,
  values: Iterable<string>,
): LabelRequirement {
  return { key, operator, values: [...new Set(values)].sort() };
}

/**
 * Orders requirements by key, as upstream's `Selector.Add` does, so the canonical string is
 * deterministic. Stable, so requirements on the same key keep their written order.
 */
export function sortByKey(requirements: readonly LabelRequirement[]): LabelRequirement[] {
  return [...requirements].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
