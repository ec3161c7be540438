import { type StoredObject } from '@app/event-store';

import { type OwnerReference } from '../owner-reference.js';
import { isPodAvailable, isPodReady, type Pod } from '../replicaset/pod-types.js';
import { controllerRef } from '../replicaset/replica-kind.js';
import {
  type PersistentVolumeClaim,
  POD_INDEX_LABEL,
  POD_NAME_LABEL,
  POD_REVISION_LABEL,
  type PodSpec,
  STATEFUL_SET,
  type StatefulSet,
} from './statefulset-types.js';

/** A pod as the StatefulSet controller reads and writes it: the parts of its spec identity touches. */
export type StatefulPod = Pod & {
  metadata: Pod['metadata'] & {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
  };
  spec?: Pod['spec'] & PodSpec;
};

// --- names and ordinals (stateful_set_utils.go) ---

const STATEFUL_POD_NAME = /^(.*)-([0-9]+)$/;

/** getParentNameAndOrdinal: `web-3` → web, 3; a name without an ordinal → '', -1. */
export function parentNameAndOrdinal(pod: StoredObject): { parent: string; ordinal: number } {
  const m = STATEFUL_POD_NAME.exec(pod.metadata.name ?? '');
  if (!m) return { parent: '', ordinal: -1 };
  const ordinal = Number(m[2]);
  // strconv.ParseInt(…, 10, 32) fails past int32: such a name has no ordinal.
  return ordinal > 2 ** 31 - 1 ? { parent: m[1], ordinal: -1 } : { parent: m[1], ordinal };
}

export const getOrdinal = (pod: StoredObject): number => parentNameAndOrdinal(pod).ordinal;

/** getPodName. */
export const podName = (set: StatefulSet, ordinal: number): string => `${set.metadata.name}-${ordinal}`;

/** getPersistentVolumeClaimName: `<claim template>-<set>-<ordinal>`. */
export const claimName = (set: StatefulSet, template: string, ordinal: number): string =>
  `${template}-${set.metadata.name}-${ordinal}`;

/** getStartOrdinal: spec.ordinals.start (StatefulSetStartOrdinal, GA). */
export const startOrdinal = (set: StatefulSet): number => set.spec?.ordinals?.start ?? 0;

/** getEndOrdinal: the last ordinal of the set's range (start − 1 for zero replicas). */
export const endOrdinal = (set: StatefulSet): number => startOrdinal(set) + (set.spec?.replicas ?? 1) - 1;

/** podInOrdinalRange. */
export function podInOrdinalRange(pod: StoredObject, set: StatefulSet): boolean {
  const ordinal = getOrdinal(pod);
  return ordinal >= startOrdinal(set) && ordinal <= endOrdinal(set);
}

/** isMemberOf: the pod's name says it belongs to this set (the claim only takes such pods). */
export const isMemberOf = (set: StatefulSet, pod: StoredObject): boolean =>
  parentNameAndOrdinal(pod).parent === set.metadata.name;

// --- identity and storage ---

/** identityMatches: name, namespace and the pod-name and pod-index labels are the set's for its ordinal. */
export function identityMatches(set: StatefulSet, pod: StatefulPod): boolean {
  const { parent, ordinal } = parentNameAndOrdinal(pod);
  return (
    ordinal >= 0 &&
    set.metadata.name === parent &&
    pod.metadata.name === podName(set, ordinal) &&
    pod.metadata.namespace === set.metadata.namespace &&
    pod.metadata.labels?.[POD_NAME_LABEL] === pod.metadata.name &&
    pod.metadata.labels?.[POD_INDEX_LABEL] === String(ordinal)
  );
}

/** updateIdentity: sets the identity identityMatches checks (a copy; the cache's pod is not touched). */
export function updateIdentity(set: StatefulSet, pod: StatefulPod): StatefulPod {
  const ordinal = getOrdinal(pod);
  const name = podName(set, ordinal);
  return {
    ...pod,
    metadata: {
      ...pod.metadata,
      name,
      namespace: set.metadata.namespace,
      labels: { ...pod.metadata.labels, [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal) },
    },
  };
}

/**
 * getPersistentVolumeClaims: the claims the pod's ordinal gets from the volumeClaimTemplates,
 * by template name, in template order, labelled with the set's selector's matchLabels.
 */
export function persistentVolumeClaims(
  set: StatefulSet,
  pod: StoredObject,
): { template: string; claim: PersistentVolumeClaim }[] {
  const ordinal = getOrdinal(pod);
  const selectorLabels = set.spec?.selector?.matchLabels ?? {};
  return (set.spec?.volumeClaimTemplates ?? []).map((t) => {
    const template = t.metadata.name ?? '';
    const claim: PersistentVolumeClaim = {
      ...structuredClone(t),
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
    };
    claim.metadata = {
      ...claim.metadata,
      name: claimName(set, template, ordinal),
      namespace: set.metadata.namespace,
      labels: { ...(claim.metadata.labels ?? {}), ...selectorLabels },
    };
    return { template, claim };
  });
}

/** storageMatches: every claim template is mounted as a volume of its name, on the ordinal's claim. */
export function storageMatches(set: StatefulSet, pod: StatefulPod): boolean {
  const ordinal = getOrdinal(pod);
  if (ordinal < 0) return false;
  const volumes = new Map((pod.spec?.volumes ?? []).map((v) => [v.name, v]));
  return (set.spec?.volumeClaimTemplates ?? []).every((t) => {
    const v = volumes.get(t.metadata.name ?? '');
    return v?.persistentVolumeClaim?.claimName === claimName(set, t.metadata.name ?? '', ordinal);
  });
}

/** updateStorage: the claims' volumes first, then the pod's other volumes (a template's name wins). */
export function updateStorage(set: StatefulSet, pod: StatefulPod): StatefulPod {
  const claims = persistentVolumeClaims(set, pod);
  const names = new Set(claims.map((c) => c.template));
  const volumes = [
    ...claims.map((c) => ({
      name: c.template,
      persistentVolumeClaim: { claimName: c.claim.metadata.name ?? '', readOnly: false },
    })),
    ...(pod.spec?.volumes ?? []).filter((v) => !names.has(v.name)),
  ];
  return { ...pod, spec: { ...pod.spec, volumes } };
}

// --- new pods ---

/**
 * newStatefulSetPod: controller.GetPodFromTemplate (labels, annotations, finalizers, spec and
 * the set as controller), named for its ordinal, with its identity (initIdentity: hostname is
 * the pod's name, subdomain the set's serviceName — set only at creation) and its storage.
 */
export function newStatefulSetPod(set: StatefulSet, ordinal: number): StatefulPod {
  const template = set.spec?.template ?? {};
  const meta = template.metadata ?? {};
  const name = podName(set, ordinal);
  let pod: StatefulPod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: set.metadata.namespace,
      labels: { ...(meta.labels ?? {}) },
      ...(meta.annotations ? { annotations: { ...meta.annotations } } : {}),
      ...(meta.finalizers ? { finalizers: [...meta.finalizers] } : {}),
      ownerReferences: [controllerRef(STATEFUL_SET, set)],
    },
    spec: structuredClone(template.spec ?? {}),
  };
  pod = updateStorage(set, updateIdentity(set, pod));
  const spec = { ...pod.spec, hostname: name };
  if (set.spec?.serviceName) spec.subdomain = set.spec.serviceName;
  return { ...pod, spec };
}

/** getPodRevision: the controller-revision-hash label (the revision's name). */
export const getPodRevision = (pod: StoredObject): string =>
  (pod.metadata.labels as Record<string, string> | undefined)?.[POD_REVISION_LABEL] ?? '';

/**
 * newVersionedStatefulSetPod: ordinals below the partition (or, without rollingUpdate, below
 * currentReplicas) are made from the current revision, the others from the update revision.
 * The condition is upstream's, whose `&&`/`||` grouping lets a partition hold for OnDelete too.
 */
export function newVersionedStatefulSetPod(
  currentSet: StatefulSet,
  updateSet: StatefulSet,
  currentRevision: string,
  updateRevision: string,
  ordinal: number,
): StatefulPod {
  const strategy = currentSet.spec?.updateStrategy;
  const rolling = strategy?.rollingUpdate;
  const start = startOrdinal(currentSet);
  const useCurrent =
    (strategy?.type === 'RollingUpdate' &&
      rolling === undefined &&
      ordinal < start + (currentSet.status?.currentReplicas ?? 0)) ||
    (rolling !== undefined && ordinal < start + (rolling.partition ?? 0));
  const pod = newStatefulSetPod(useCurrent ? currentSet : updateSet, ordinal);
  pod.metadata.labels = {
    ...pod.metadata.labels,
    [POD_REVISION_LABEL]: useCurrent ? currentRevision : updateRevision,
  };
  return pod;
}

// --- pod health (stateful_set_utils.go) ---

export const isCreated = (pod: StatefulPod): boolean => (pod.status?.phase ?? '') !== '';
export const isPending = (pod: StatefulPod): boolean => pod.status?.phase === 'Pending';
export const isFailed = (pod: StatefulPod): boolean => pod.status?.phase === 'Failed';
export const isSucceeded = (pod: StatefulPod): boolean => pod.status?.phase === 'Succeeded';
export const isTerminating = (pod: StatefulPod): boolean => !!pod.metadata.deletionTimestamp;
export const isRunningAndReady = (pod: StatefulPod): boolean =>
  pod.status?.phase === 'Running' && isPodReady(pod);
export const isRunningAndAvailable = (pod: StatefulPod, minReadySeconds: number, now: number): boolean =>
  pod.status?.phase === 'Running' && isPodAvailable(pod, minReadySeconds, now);
/** isHealthy: Running and Ready, and not being deleted. */
export const isHealthy = (pod: StatefulPod): boolean => isRunningAndReady(pod) && !isTerminating(pod);

// --- PVC retention (StatefulSetAutoDeletePVC, GA in 1.32) ---

export function retentionPolicy(set: StatefulSet): { whenDeleted: string; whenScaled: string } {
  const p = set.spec?.persistentVolumeClaimRetentionPolicy;
  return { whenDeleted: p?.whenDeleted ?? 'Retain', whenScaled: p?.whenScaled ?? 'Retain' };
}

const refs = (o: StoredObject): OwnerReference[] =>
  Array.isArray(o.metadata.ownerReferences) ? (o.metadata.ownerReferences as OwnerReference[]) : [];
const hasOwnerRef = (target: StoredObject, owner: StoredObject): boolean =>
  refs(target).some((r) => r.uid === owner.metadata.uid);

/** hasStaleOwnerRef: the claim names a pod of this name with another uid (a pod since deleted). */
export const hasStaleOwnerRef = (claim: StoredObject, pod: StoredObject): boolean =>
  refs(claim).some((r) => r.kind === 'Pod' && r.name === pod.metadata.name && r.uid !== pod.metadata.uid);

/**
 * claimOwnerMatchesSetAndPod: whether the claim's ownerReferences are what the retention
 * policy wants — the set's when whenDeleted is Delete (the garbage collector then deletes
 * it with the set), the pod's when whenScaled is Delete and the pod is scaled away.
 */
export function claimOwnerMatchesSetAndPod(
  claim: StoredObject,
  set: StatefulSet,
  pod: StoredObject,
): boolean {
  const { wantSet, wantPod } = wantedClaimOwners(set, pod);
  return hasOwnerRef(claim, set) === wantSet && hasOwnerRef(claim, pod) === wantPod;
}

function wantedClaimOwners(set: StatefulSet, pod: StoredObject): { wantSet: boolean; wantPod: boolean } {
  const { whenDeleted, whenScaled } = retentionPolicy(set);
  const scaledDown = !podInOrdinalRange(pod, set);
  if (whenScaled === 'Delete' && whenDeleted === 'Delete')
    return { wantSet: !scaledDown, wantPod: scaledDown };
  if (whenScaled === 'Delete') return { wantSet: false, wantPod: scaledDown };
  return { wantSet: whenDeleted === 'Delete', wantPod: false };
}

/**
 * updateClaimOwnerRefForSetAndPod: the claim's ownerReferences with the set's and the pod's
 * (plain, not controller, references) added or removed as the policy wants; undefined when
 * nothing changes.
 */
export function claimOwnerRefsFor(
  claim: StoredObject,
  set: StatefulSet,
  pod: StoredObject,
): OwnerReference[] | undefined {
  if (claimOwnerMatchesSetAndPod(claim, set, pod)) return undefined;
  const { wantSet, wantPod } = wantedClaimOwners(set, pod);
  let next = refs(claim).filter((r) => r.uid !== set.metadata.uid && r.uid !== pod.metadata.uid);
  const ref = (o: StoredObject, apiVersion: string, kind: string): OwnerReference => ({
    apiVersion,
    kind,
    name: o.metadata.name ?? '',
    uid: o.metadata.uid ?? '',
  });
  if (wantSet) next = [...next, ref(set, STATEFUL_SET.apiVersion, STATEFUL_SET.kind)];
  if (wantPod) next = [...next, ref(pod, 'v1', 'Pod')];
  return next;
}
