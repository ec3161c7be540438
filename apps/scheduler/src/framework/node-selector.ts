import { type NodeSelectorRequirement, type NodeSelectorTerm, type PodSpec } from './api-types.js';
import { type NodeInfo } from './types.js';

/**
 * Node selector terms (node affinity) compiled once per pod, after upstream's
 * component-helpers nodeaffinity package: requirements in a term are ANDed, terms are ORed,
 * an empty term matches nothing, and a term upstream would fail to parse is left out.
 */
type Requirement =
  | { kind: 'in'; key: string; values: readonly string[] }
  | { kind: 'notIn'; key: string; values: readonly string[] }
  | { kind: 'exists'; key: string }
  | { kind: 'doesNotExist'; key: string }
  | { kind: 'gt' | 'lt'; key: string; bound: number }
  | { kind: 'fieldEquals' | 'fieldNotEquals'; key: string; value: string };

export interface CompiledTerm {
  readonly requirements: readonly Requirement[];
}

const INTEGER = /^[+-]?\d+$/;

/**
 * What selector terms read of a node: its name (matchFields) and labels. The DaemonSet
 * controller matches raw Nodes with the same rules (nodeShouldRunDaemonPod).
 */
export type SelectableNode = Pick<NodeInfo, 'name' | 'labels'>;

function labelRequirement(r: NodeSelectorRequirement): Requirement | undefined {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) return undefined;
      return { kind: r.operator === 'In' ? 'in' : 'notIn', key: r.key, values };
    case 'Exists':
    case 'DoesNotExist':
      if (values.length !== 0) return undefined;
      return { kind: r.operator === 'Exists' ? 'exists' : 'doesNotExist', key: r.key };
    case 'Gt':
    case 'Lt':
      if (values.length !== 1 || !INTEGER.test(values[0])) return undefined;
      return { kind: r.operator === 'Gt' ? 'gt' : 'lt', key: r.key, bound: Number(values[0]) };
    default:
      return undefined;
  }
}

/** Node fields selectors know only metadata.name, with In/NotIn of exactly one value. */
function fieldRequirement(r: NodeSelectorRequirement): Requirement | undefined {
  const values = r.values ?? [];
  if (values.length !== 1) return undefined;
  if (r.operator === 'In') return { kind: 'fieldEquals', key: r.key, value: values[0] };
  if (r.operator === 'NotIn') return { kind: 'fieldNotEquals', key: r.key, value: values[0] };
  return undefined;
}

export function compileTerm(term: NodeSelectorTerm | undefined): CompiledTerm | undefined {
  const exprs = term?.matchExpressions ?? [];
  const fields = term?.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return undefined;
  const requirements: Requirement[] = [];
  for (const e of exprs) {
    const r = labelRequirement(e);
    if (r === undefined) return undefined;
    requirements.push(r);
  }
  for (const f of fields) {
    const r = fieldRequirement(f);
    if (r === undefined) return undefined;
    requirements.push(r);
  }
  return { requirements };
}

function fieldValue(node: SelectableNode, key: string): string {
  return key === 'metadata.name' ? node.name : '';
}

function requirementMatches(r: Requirement, node: SelectableNode): boolean {
  const labels = node.labels;
  switch (r.kind) {
    case 'in':
      return Object.hasOwn(labels, r.key) && r.values.includes(labels[r.key]);
    case 'notIn':
      return !Object.hasOwn(labels, r.key) || !r.values.includes(labels[r.key]);
    case 'exists':
      return Object.hasOwn(labels, r.key);
    case 'doesNotExist':
      return !Object.hasOwn(labels, r.key);
    case 'gt':
    case 'lt': {
      if (!Object.hasOwn(labels, r.key)) return false;
      const v = labels[r.key];
      if (!INTEGER.test(v)) return false;
      const n = Number(v);
      return r.kind === 'gt' ? n > r.bound : n < r.bound;
    }
    case 'fieldEquals':
      return fieldValue(node, r.key) === r.value;
    case 'fieldNotEquals':
      return fieldValue(node, r.key) !== r.value;
  }
}

export function nodeTermMatches(term: CompiledTerm, node: SelectableNode): boolean {
  for (const r of term.requirements) if (!requirementMatches(r, node)) return false;
  return true;
}

/**
 * spec.nodeSelector ANDed with the required node affinity terms (upstream's
 * GetRequiredNodeAffinity): what NodeAffinity filters on and PodTopologySpread honours.
 */
export class RequiredNodeAffinity {
  private readonly selector: readonly [string, string][];
  /** undefined: no required node affinity at all (as opposed to terms that match nothing). */
  private readonly terms: readonly CompiledTerm[] | undefined;

  constructor(spec: PodSpec) {
    this.selector = Object.entries(spec.nodeSelector ?? {});
    const required = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    if (required === undefined || required === null) {
      this.terms = undefined;
    } else {
      const terms: CompiledTerm[] = [];
      for (const t of required.nodeSelectorTerms ?? []) {
        const compiled = compileTerm(t);
        if (compiled !== undefined) terms.push(compiled);
      }
      this.terms = terms;
    }
  }

  /** True when the pod has neither a nodeSelector nor required node affinity. */
  get isEmpty(): boolean {
    return this.selector.length === 0 && this.terms === undefined;
  }

  matches(node: SelectableNode): boolean {
    const labels = node.labels;
    for (const [k, v] of this.selector) {
      if (!Object.hasOwn(labels, k) || labels[k] !== v) return false;
    }
    if (this.terms === undefined) return true;
    for (const t of this.terms) if (nodeTermMatches(t, node)) return true;
    return false;
  }
}
