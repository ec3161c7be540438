import {
  type LabelSelector,
  labelSelectorFromObject,
  matchesLabels,
  type LabelSelectorObject,
} from '@app/api';

import { type PodAffinitySpec, type PodAffinityTermSpec } from './api-types.js';
import { type AffinityTerm, type KubeObject, type WeightedAffinityTerm } from './types.js';

const NOTHING: LabelSelector = { requirements: [], matchNothing: true };

/**
 * A term's or a spread constraint's selector with the pod's own labels added: matchLabelKeys
 * become `key in (v)`, mismatchLabelKeys `key notin (v)`, for each key the pod carries. No base
 * selector selects nothing (and stays so); a selector the API should have refused also selects
 * nothing, rather than failing every attempt.
 */
export function selectorWithPodLabels(
  base: LabelSelectorObject | null | undefined,
  podLabels: Readonly<Record<string, string>>,
  matchKeys: readonly string[] = [],
  mismatchKeys: readonly string[] = [],
): LabelSelector {
  if (base === null || base === undefined) return NOTHING;
  const extra: { key: string; operator: string; values: string[] }[] = [];
  for (const key of matchKeys)
    if (Object.hasOwn(podLabels, key)) extra.push({ key, operator: 'In', values: [podLabels[key]] });
  for (const key of mismatchKeys)
    if (Object.hasOwn(podLabels, key)) extra.push({ key, operator: 'NotIn', values: [podLabels[key]] });
  try {
    return labelSelectorFromObject(
      extra.length === 0 ? base : { ...base, matchExpressions: [...(base.matchExpressions ?? []), ...extra] },
    );
  } catch {
    return NOTHING;
  }
}

function termSelector(term: PodAffinityTermSpec, podLabels: Record<string, string>): LabelSelector {
  return selectorWithPodLabels(term.labelSelector, podLabels, term.matchLabelKeys, term.mismatchLabelKeys);
}

/** Upstream's newAffinityTerm: no namespaces and no namespaceSelector mean the pod's own namespace. */
export function affinityTerm(pod: KubeObject, term: PodAffinityTermSpec): AffinityTerm {
  const labels = pod.metadata.labels ?? {};
  const ownNamespaceOnly = (term.namespaces ?? []).length === 0 && (term.namespaceSelector ?? null) === null;
  return {
    namespaces: new Set(ownNamespaceOnly ? [pod.metadata.namespace ?? 'default'] : (term.namespaces ?? [])),
    namespaceSelector: selectorWithPodLabels(term.namespaceSelector, {}),
    selector: termSelector(term, labels),
    topologyKey: term.topologyKey,
  };
}

export function requiredTerms(pod: KubeObject, spec: PodAffinitySpec | undefined): AffinityTerm[] {
  return (spec?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => affinityTerm(pod, t));
}

/** Weight-0 terms are dropped, as upstream does: they could never change a score. */
export function preferredTerms(pod: KubeObject, spec: PodAffinitySpec | undefined): WeightedAffinityTerm[] {
  const out: WeightedAffinityTerm[] = [];
  for (const w of spec?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
    if (w.weight === 0) continue;
    out.push({ ...affinityTerm(pod, w.podAffinityTerm), weight: w.weight });
  }
  return out;
}

/** Looks up a namespace's labels (for namespaceSelector); undefined when unknown. */
export type NamespaceLabels = (namespace: string) => Readonly<Record<string, string>> | undefined;

/** Upstream's AffinityTerm.Matches, with the namespace's labels looked up on demand. */
export function termMatches(
  term: AffinityTerm,
  pod: KubeObject,
  namespaceLabels: NamespaceLabels | undefined,
): boolean {
  const ns = pod.metadata.namespace ?? 'default';
  if (!term.namespaces.has(ns)) {
    const sel = term.namespaceSelector;
    if (sel.matchNothing) return false;
    if (sel.requirements.length > 0 && !matchesLabels(sel, namespaceLabels?.(ns))) return false;
  }
  return matchesLabels(term.selector, pod.metadata.labels);
}

/** True when the pod matches every term (and there is at least one). */
export function matchesAllTerms(
  terms: readonly AffinityTerm[],
  pod: KubeObject,
  namespaceLabels: NamespaceLabels | undefined,
): boolean {
  if (terms.length === 0) return false;
  for (const t of terms) if (!termMatches(t, pod, namespaceLabels)) return false;
  return true;
}
