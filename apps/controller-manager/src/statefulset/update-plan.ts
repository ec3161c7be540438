import { type ControllerRevision } from '../history/controller-revision.js';
import {
  claimOwnerMatchesSetAndPod,
  getOrdinal,
  getPodRevision,
  hasStaleOwnerRef,
  identityMatches,
  isCreated,
  isFailed,
  isHealthy,
  isPending,
  isRunningAndAvailable,
  isRunningAndReady,
  isSucceeded,
  isTerminating,
  newVersionedStatefulSetPod,
  persistentVolumeClaims,
  podInOrdinalRange,
  retentionPolicy,
  startOrdinal,
  type StatefulPod,
  storageMatches,
} from './identity.js';
import { applyRevision } from './revisions.js';
import { countPods } from './status.js';
import { type PersistentVolumeClaim, type StatefulSet, type StatefulSetStatus } from './statefulset-types.js';

/** One write the sync decided on; the controller carries it out. */
export type StatefulAction =
  /** A pod that finished (Succeeded or Failed): deleted, to be recreated next sync. */
  | { type: 'delete'; why: 'finished' | 'scale-down' | 'update'; pod: StatefulPod }
  /** A missing ordinal: its claims, then the pod (CreateStatefulPod). */
  | { type: 'create'; pod: StatefulPod }
  /** A pending pod whose claims may be missing (createMissingPersistentVolumeClaims). */
  | { type: 'create-claims'; pod: StatefulPod }
  /** A pod whose identity, storage or claims' owners are not the set's (UpdateStatefulPod). */
  | { type: 'update'; pod: StatefulPod }
  /** A condemned pod's claims whose owners do not match the retention policy. */
  | { type: 'fix-claims'; pod: StatefulPod };

export interface UpdatePlanInput {
  set: StatefulSet;
  /** The set's pods (claimed, members of the set), in any order. */
  pods: readonly StatefulPod[];
  currentRevision: ControllerRevision;
  updateRevision: ControllerRevision;
  collisionCount: number;
  /** The PVC of that name in the set's namespace, from the cache. */
  claim: (name: string) => PersistentVolumeClaim | undefined;
  now: number;
}

export interface UpdatePlan {
  status: StatefulSetStatus;
  /** The set made from the update revision: what pods are updated against. */
  updateSet: StatefulSet;
  /**
   * Writes in upstream's phases (replicas, condemned claims, condemned, rolling update). When
   * `monotonic` they run one by one and the first error ends the sync; otherwise each phase
   * runs at once and an error ends the sync after its phase.
   */
  phases: StatefulAction[][];
  monotonic: boolean;
}

/**
 * updateStatefulSet (pkg/controller/statefulset/stateful_set_control.go) without its writes:
 * the pods for ordinals [start, start+replicas) are replicas (missing ones to be created from
 * the revision newVersionedStatefulSetPod picks), the others condemned, highest ordinal first.
 * OrderedReady (monotonic) stops at the first replica that is not created, Running, Ready and
 * available, so ordinal i+1 is created only once i is; it scales down one pod at a time,
 * highest first, and not while another pod is unhealthy. Parallel does each phase at once.
 * RollingUpdate then deletes the highest-ordinal pod at or above the partition not on the
 * update revision, waiting for each to come back healthy; OnDelete leaves that to the user.
 */
export function planUpdate(input: UpdatePlanInput): UpdatePlan {
  const { set, pods, currentRevision, updateRevision, claim, now } = input;
  const currentSet = applyRevision(set, currentRevision);
  const updateSet = applyRevision(set, updateRevision);
  const current = currentRevision.metadata.name ?? '';
  const update = updateRevision.metadata.name ?? '';
  const minReady = set.spec?.minReadySeconds ?? 0;
  const status: StatefulSetStatus = {
    observedGeneration: set.metadata.generation,
    currentRevision: current,
    updateRevision: update,
    collisionCount: input.collisionCount,
    ...countPods(pods, minReady, current, update, now),
  };
  const phases: StatefulAction[][] = [];
  const monotonic = set.spec?.podManagementPolicy !== 'Parallel';
  const plan = { status, updateSet, phases, monotonic };

  const start = startOrdinal(set);
  const replicas: StatefulPod[] = new Array<StatefulPod>(Math.max(0, set.spec?.replicas ?? 1));
  const condemned: StatefulPod[] = [];
  for (const pod of pods) {
    if (podInOrdinalRange(pod, set)) replicas[getOrdinal(pod) - start] = pod;
    else if (getOrdinal(pod) >= 0) condemned.push(pod);
  }
  for (let i = 0; i < replicas.length; i++)
    replicas[i] ??= newVersionedStatefulSetPod(currentSet, updateSet, current, update, start + i);
  condemned.sort((a, b) => getOrdinal(b) - getOrdinal(a));
  // The first unhealthy pod: the lowest unhealthy replica, else the lowest unhealthy condemned one.
  const firstUnhealthy =
    replicas.find((p) => !isHealthy(p)) ?? [...condemned].reverse().find((p) => !isHealthy(p));

  if (set.metadata.deletionTimestamp) return plan;

  const claimsOf = (s: StatefulSet, pod: StatefulPod) =>
    persistentVolumeClaims(s, pod)
      .map((c) => claim(c.claim.metadata.name ?? ''))
      .filter((c): c is PersistentVolumeClaim => c !== undefined);
  const claimsMatch = (s: StatefulSet, pod: StatefulPod) =>
    claimsOf(s, pod).every((c) => claimOwnerMatchesSetAndPod(c, s, pod));

  // processReplica over each replica; `true` is upstream's shouldExit.
  const replicaPhase: StatefulAction[] = [];
  phases.push(replicaPhase);
  const processReplica = (pod: StatefulPod): boolean => {
    if (isFailed(pod) || isSucceeded(pod)) {
      if (!isTerminating(pod)) replicaPhase.push({ type: 'delete', why: 'finished', pod });
      return true;
    }
    if (!isCreated(pod)) {
      // PodClaimIsStale: a claim still owned by this ordinal's previous pod waits for the garbage collector.
      if (
        retentionPolicy(set).whenScaled !== 'Retain' &&
        claimsOf(set, pod).some((c) => hasStaleOwnerRef(c, pod))
      )
        return true;
      replicaPhase.push({ type: 'create', pod });
      return monotonic;
    }
    if (isPending(pod)) replicaPhase.push({ type: 'create-claims', pod });
    if (
      monotonic &&
      (isTerminating(pod) || !isRunningAndReady(pod) || !isRunningAndAvailable(pod, minReady, now))
    )
      return true;
    if (identityMatches(set, pod) && storageMatches(set, pod) && claimsMatch(updateSet, pod)) return false;
    replicaPhase.push({ type: 'update', pod });
    return false;
  };
  for (const pod of replicas) if (processReplica(pod) && monotonic) return plan;

  const fixClaims = condemned
    .filter((pod) => !claimsMatch(updateSet, pod))
    .map((pod): StatefulAction => ({ type: 'fix-claims', pod }));
  phases.push(fixClaims);

  // processCondemned.
  const condemnedPhase: StatefulAction[] = [];
  phases.push(condemnedPhase);
  for (const pod of condemned) {
    if (isTerminating(pod)) {
      if (monotonic) return plan;
      continue;
    }
    const blocked = !isRunningAndReady(pod) || !isRunningAndAvailable(pod, minReady, now);
    if (monotonic && blocked && pod !== firstUnhealthy) return plan;
    condemnedPhase.push({ type: 'delete', why: 'scale-down', pod });
    if (monotonic) return plan;
  }

  if (set.spec?.updateStrategy?.type === 'OnDelete') return plan;

  // The rolling update: from the highest ordinal down to the partition, one pod at a time.
  const updateMin = set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
  for (let target = replicas.length - 1; target >= updateMin; target--) {
    const pod = replicas[target];
    if (getPodRevision(pod) !== update && !isTerminating(pod)) {
      phases.push([{ type: 'delete', why: 'update', pod }]);
      return plan;
    }
    if (!isHealthy(pod)) return plan;
  }
  return plan;
}
