import { type AffinitySpec, type NodeSelectorTerm } from '../../../scheduler/src/framework/api-types.js';
import { type PodTemplate } from '../deployment/deployment-types.js';
import { type Pod } from '../replicaset/pod-types.js';
import { DAEMONSET_HASH_LABEL, TEMPLATE_GENERATION_LABEL } from './daemonset-types.js';
import { daemonPodTolerations, type DaemonPodSpec } from './node-eligibility.js';

/** A daemon pod: a pod whose spec carries the affinity that names its node. */
export type DaemonPod = Pod & { spec?: Pod['spec'] & { affinity?: AffinitySpec } };

/** metav1.ObjectNameField. */
const NAME_FIELD = 'metadata.name';

/**
 * util.CreatePodTemplate: the DaemonSet's template with the daemon tolerations, labelled with
 * the template generation (when the DaemonSet has one) and the revision hash.
 */
export function createPodTemplate(
  template: PodTemplate | undefined,
  generation: number | undefined,
  hash: string,
): { metadata: NonNullable<PodTemplate['metadata']>; spec: DaemonPodSpec } {
  const spec = structuredClone((template?.spec ?? {}) as DaemonPodSpec);
  spec.tolerations = daemonPodTolerations(spec);
  const labels: Record<string, string> = { ...(template?.metadata?.labels as Record<string, string>) };
  if (generation !== undefined) labels[TEMPLATE_GENERATION_LABEL] = String(generation);
  if (hash) labels[DAEMONSET_HASH_LABEL] = hash;
  return { metadata: { ...structuredClone(template?.metadata ?? {}), labels }, spec };
}

/**
 * util.ReplaceDaemonSetPodNodeNameNodeAffinity: the pod's required node affinity becomes the
 * single term `metadata.name In [node]` (preferred terms and other affinities stay), so the
 * scheduler places it on that node and nowhere else.
 */
export function replaceNodeNameAffinity(affinity: AffinitySpec | undefined, nodeName: string): AffinitySpec {
  const terms: NodeSelectorTerm[] = [
    { matchFields: [{ key: NAME_FIELD, operator: 'In', values: [nodeName] }] },
  ];
  const out = structuredClone(affinity ?? {});
  out.nodeAffinity = {
    ...out.nodeAffinity,
    requiredDuringSchedulingIgnoredDuringExecution: {
      ...out.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution,
      nodeSelectorTerms: terms,
    },
  };
  return out;
}

/**
 * util.GetTargetNodeName: spec.nodeName once bound, else the node its affinity's
 * `metadata.name In [one node]` names; undefined when neither says.
 */
export function targetNodeName(pod: DaemonPod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const terms =
    pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  for (const term of terms ?? [])
    for (const f of term.matchFields ?? [])
      if (f.key === NAME_FIELD && f.operator === 'In')
        return f.values?.length === 1 ? f.values[0] : undefined;
  return undefined;
}

/** podByCreationTimestampAndPhase: scheduled pods first, then the oldest, then by name. */
export function byCreationTimestampAndPhase(a: Pod, b: Pod): number {
  const [sa, sb] = [Boolean(a.spec?.nodeName), Boolean(b.spec?.nodeName)];
  if (sa !== sb) return sa ? -1 : 1;
  const [ta, tb] = [
    Date.parse(a.metadata.creationTimestamp ?? ''),
    Date.parse(b.metadata.creationTimestamp ?? ''),
  ];
  if (ta !== tb && !Number.isNaN(ta) && !Number.isNaN(tb)) return ta - tb;
  return (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');
}

/**
 * util.IsPodUpdated: the pod carries the current revision's hash, or (kept for DaemonSets
 * older than revisions) the current template generation.
 */
export function isPodUpdated(pod: Pod, hash: string, generation: number | undefined): boolean {
  const labels = pod.metadata.labels ?? {};
  const templateMatches =
    generation !== undefined && labels[TEMPLATE_GENERATION_LABEL] === String(generation);
  const hashMatches = hash.length > 0 && labels[DAEMONSET_HASH_LABEL] === hash;
  return hashMatches || templateMatches;
}
