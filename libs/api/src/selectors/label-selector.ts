import { StatusError } from '../errors/index.js';
import { goQuote } from './go-errors.js';
import { parseLabelRequirements } from './label-parser.js';
import {
  type LabelOperator,
  type LabelRequirement,
  makeRequirement,
  requirementError,
  sortByKey,
} from './label-requirement.js';

export type { LabelOperator, LabelRequirement } from './label-requirement.js';

/** Requirements are ANDed; no requirements matches everything. */
export interface LabelSelector {
  requirements: LabelRequirement[];
  /**
   * Set only for a null/absent `metav1.LabelSelector`, which upstream turns into
   * `labels.Nothing()`: it matches no object at all, whatever `requirements` says.
   */
  matchNothing?: true;
}

/**
 * A `key=value` every object the selector matches carries (its first equality term), for
 * narrowing candidates through a label index; undefined when it has none.
 */
export function equalityTerm(selector: LabelSelector): [key: string, value: string] | undefined {
  if (selector.matchNothing) return undefined;
  const r = selector.requirements.find(
    (q) => (q.operator === 'Equals' || q.operator === 'In') && q.values.length === 1,
  );
  return r && [r.key, r.values[0]];
}

/** `metav1.LabelSelector` as found in object specs. */
export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

const EXPRESSION_OPERATORS: ReadonlyMap<string, LabelOperator> = new Map<string, LabelOperator>([
  ['In', 'In'],
  ['NotIn', 'NotIn'],
  ['Exists', 'Exists'],
  ['DoesNotExist', 'DoesNotExist'],
]);

/** Parses the `labelSelector` query parameter syntax (`labels.Parse` upstream). */
export function parseLabelSelector(input: string): LabelSelector {
  return { requirements: parseLabelRequirements(input) };
}

function validatedRequirement(
  key: string,
  operator: LabelOperator,
  values: readonly string[],
): LabelRequirement {
  const error = requirementError(key, operator, values);
  if (error !== undefined) throw StatusError.badRequest(error);
  return makeRequirement(key, operator, values);
}

function expressionRequirement(expr: { key: string; operator: string; values?: string[] }): LabelRequirement {
  const operator = EXPRESSION_OPERATORS.get(expr.operator);
  if (operator === undefined) {
    throw StatusError.badRequest(`${goQuote(expr.operator)} is not a valid label selector operator`);
  }
  return validatedRequirement(expr.key, operator, expr.values ?? []);
}

/**
 * Converts a `metav1.LabelSelector` as `metav1.LabelSelectorAsSelector` does: null/undefined
 * selects nothing, an empty selector selects everything.
 */
export function labelSelectorFromObject(sel: LabelSelectorObject | null | undefined): LabelSelector {
  if (sel === null || sel === undefined) return { requirements: [], matchNothing: true };
  const fromLabels = Object.entries(sel.matchLabels ?? {}).map(([key, value]) =>
    validatedRequirement(key, 'Equals', [value]),
  );
  const fromExpressions = (sel.matchExpressions ?? []).map(expressionRequirement);
  return { requirements: sortByKey([...fromLabels, ...fromExpressions]) };
}

function requirementMatches(req: LabelRequirement, labels: Readonly<Record<string, string>>): boolean {
  // Own properties only: a label set is data, and `constructor` must not look like a label.
  const has = Object.hasOwn(labels, req.key);
  switch (req.operator) {
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Equals':
    case 'In':
      return has && req.values.includes(labels[req.key]);
    case 'NotEquals':
    case 'NotIn':
      // Upstream: an object without the key satisfies `!=` and `notin`.
      return !has || !req.values.includes(labels[req.key]);
  }
}

/** True when `labels` (absent = no labels) satisfies every requirement. */
export function matchesLabels(
  sel: LabelSelector,
  labels: Readonly<Record<string, string>> | undefined | null,
): boolean {
  if (sel.matchNothing) return false;
  const set = labels ?? {};
  // A plain loop: the scheduler's affinity and spreading plugins call this for every pod on
  // every candidate node, and watches and lists for every object.
  const reqs = sel.requirements;
  for (let i = 0; i < reqs.length; i++) if (!requirementMatches(reqs[i], set)) return false;
  return true;
}

function formatRequirement(req: LabelRequirement): string {
  const values = [...req.values].sort().join(',');
  switch (req.operator) {
    case 'Exists':
      return req.key;
    case 'DoesNotExist':
      return `!${req.key}`;
    case 'Equals':
      return `${req.key}=${values}`;
    case 'NotEquals':
      return `${req.key}!=${values}`;
    case 'In':
      return `${req.key} in (${values})`;
    case 'NotIn':
      return `${req.key} notin (${values})`;
  }
}

/**
 * The canonical string (`Selector.String()` upstream), which parses back to the same selector.
 * A match-nothing selector formats as '' just as upstream's does, so that case does not round-trip.
 */
export function formatLabelSelector(sel: LabelSelector): string {
  return sel.requirements.map(formatRequirement).join(',');
}
