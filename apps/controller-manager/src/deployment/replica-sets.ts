import {
  type Deployment,
  DESIRED_REPLICAS_ANNOTATION,
  desiredOf,
  type ReplicaSet,
  replicasOf,
  REVISION_ANNOTATION,
} from './deployment-types.js';
import { equalIgnoreHash } from './template-hash.js';

/** The set-wide helpers of deployment_util.go and controller_utils.go, over plain lists. */

const createdAt = (rs: ReplicaSet) => Date.parse(rs.metadata.creationTimestamp ?? '') || 0;

/** ReplicaSetsByCreationTimestamp: older first, then by name. */
export function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  const d = createdAt(a) - createdAt(b);
  if (d !== 0) return d;
  return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1;
}

/** ReplicaSetsBySizeOlder: larger first; equal sizes older first (scaling down). */
export function bySizeOlder(a: ReplicaSet, b: ReplicaSet): number {
  return replicasOf(b) - replicasOf(a) || byCreation(a, b);
}

/** ReplicaSetsBySizeNewer: larger first; equal sizes newer first (scaling up). */
export function bySizeNewer(a: ReplicaSet, b: ReplicaSet): number {
  return replicasOf(b) - replicasOf(a) || byCreation(b, a);
}

/** Revision: the revision annotation as a number (0 when absent or unparsable). */
export function revisionOf(rs: ReplicaSet): number {
  const n = Number.parseInt(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? '', 10);
  return Number.isNaN(n) ? 0 : n;
}

/** ReplicaSetsByRevision: lower revision first, then by creation. */
export function byRevision(a: ReplicaSet, b: ReplicaSet): number {
  return revisionOf(a) - revisionOf(b) || byCreation(a, b);
}

export function maxRevision(sets: readonly ReplicaSet[]): number {
  return sets.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
}

/** FilterActiveReplicaSets: the sets asked for pods. */
export const activeSets = (sets: readonly (ReplicaSet | undefined)[]): ReplicaSet[] =>
  sets.filter((rs): rs is ReplicaSet => rs !== undefined && replicasOf(rs) > 0);

/** GetReplicaCountForReplicaSets: the pods asked for. */
export const specReplicas = (sets: readonly (ReplicaSet | undefined)[]): number =>
  sets.reduce((n, rs) => n + replicasOf(rs), 0);

/**
 * The pods the sets may have right now: each set's size, or the pods its status still counts
 * when more (a set scaled down whose extra pods are not yet marked for deletion). Upstream's
 * surge check counts sizes only, so a controller manager restarted mid-rollout could grow the
 * new set before the old set's extra pods were gone, with more than desired + maxSurge pods
 * alive for a moment; counting these keeps the bound on pods, not only on sizes.
 */
export const surgeReplicas = (sets: readonly (ReplicaSet | undefined)[]): number =>
  sets.reduce((n, rs) => n + Math.max(replicasOf(rs), rs?.status?.replicas ?? 0), 0);

/** GetActualReplicaCountForReplicaSets: the pods they have. */
export const actualReplicas = (sets: readonly (ReplicaSet | undefined)[]): number =>
  sets.reduce((n, rs) => n + (rs?.status?.replicas ?? 0), 0);

export const readyReplicas = (sets: readonly (ReplicaSet | undefined)[]): number =>
  sets.reduce((n, rs) => n + (rs?.status?.readyReplicas ?? 0), 0);

export const availableReplicas = (sets: readonly (ReplicaSet | undefined)[]): number =>
  sets.reduce((n, rs) => n + (rs?.status?.availableReplicas ?? 0), 0);

/** FindNewReplicaSet: the oldest set whose template equals the Deployment's (hash aside). */
export function findNewReplicaSet(d: Deployment, sets: readonly ReplicaSet[]): ReplicaSet | undefined {
  return [...sets].sort(byCreation).find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
}

/** FindOldReplicaSets' second result: every set but the new one. */
export function findOldReplicaSets(d: Deployment, sets: readonly ReplicaSet[]): ReplicaSet[] {
  const current = findNewReplicaSet(d, sets);
  return sets.filter((rs) => rs.metadata.uid !== current?.metadata.uid);
}

/**
 * FindActiveOrLatest: the one active set if exactly one is, the newest if none is, else
 * undefined (several active sets: a rollout is under way).
 */
export function findActiveOrLatest(
  newRS: ReplicaSet | undefined,
  oldRSs: readonly ReplicaSet[],
): ReplicaSet | undefined {
  if (!newRS && oldRSs.length === 0) return undefined;
  const newestFirst = [...oldRSs].sort((a, b) => byCreation(b, a));
  const active = activeSets([...newestFirst, newRS]);
  if (active.length === 0) return newRS ?? newestFirst[0];
  return active.length === 1 ? active[0] : undefined;
}

/** IsSaturated: the new set is at full size, annotated so, and all of it available. */
export function isSaturated(d: Deployment, rs: ReplicaSet | undefined): boolean {
  if (!rs) return false;
  const annotated = Number.parseInt(rs.metadata.annotations?.[DESIRED_REPLICAS_ANNOTATION] ?? '', 10);
  if (Number.isNaN(annotated)) return false;
  const desired = desiredOf(d);
  return (
    replicasOf(rs) === desired && annotated === desired && (rs.status?.availableReplicas ?? 0) === desired
  );
}
