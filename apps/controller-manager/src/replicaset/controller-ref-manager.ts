import { type LabelSelector, matchesLabels } from '@app/api';
import { type ApiClient, ApiError, type InformerResource, resourcePath } from '@app/client';
import { type StoredObject } from '@app/event-store';

import { controllerOf, type OwnerReference, type Pod } from './pod-types.js';
import { type ClaimingKind, controllerRef } from './replica-kind.js';

const POD = { group: '', version: 'v1', plural: 'pods' };

/** What ClaimObject decides for one dependent (a pod; a Deployment's ReplicaSet), before any write. */
export type ClaimDecision = 'owned' | 'adopt' | 'release' | 'ignore';

/**
 * ControllerRefManager.ClaimObject (pkg/controller/controller_ref_manager.go): a pod we
 * control is kept while it matches and released when it no longer does (unless we are being
 * deleted); an orphan that matches, in our namespace and not being deleted, is adopted;
 * a pod another controller owns is never touched.
 */
export function claimDecision<T extends StoredObject>(
  owner: StoredObject,
  selector: LabelSelector,
  pod: T,
  filter?: (o: T) => boolean,
): ClaimDecision {
  // ClaimPods' filters (a StatefulSet's isMemberOf) narrow what matches, as the selector does.
  const matches = matchesLabels(selector, pod.metadata.labels) && (filter?.(pod) ?? true);
  const ref = controllerOf(pod);
  if (ref) {
    if (ref.uid !== owner.metadata.uid) return 'ignore';
    if (matches) return 'owned';
    return owner.metadata.deletionTimestamp ? 'ignore' : 'release';
  }
  if (owner.metadata.deletionTimestamp || !matches || pod.metadata.deletionTimestamp) return 'ignore';
  if (owner.metadata.namespace && owner.metadata.namespace !== pod.metadata.namespace) return 'ignore';
  return 'adopt';
}

/** ClaimPods: claimObjects over pods. */
export function claimPods(
  api: ApiClient,
  kind: ClaimingKind,
  owner: StoredObject,
  selector: LabelSelector,
  pods: readonly Pod[],
  cause: number,
): Promise<Pod[]> {
  return claimObjects(api, kind, owner, selector, pods, POD, cause);
}

/**
 * ClaimPods / ClaimReplicaSets: applies the decisions, returning the dependents this owner now controls. Adopting and
 * releasing are merge patches of the pod's ownerReferences guarded by its uid and
 * resourceVersion (upstream uses a strategic merge patch keyed by uid; replacing the list
 * under a resourceVersion precondition is as safe: a concurrent change conflicts and the sync
 * retries). Before the first adoption the owner is re-read, as upstream's
 * RecheckDeletionTimestamp does, so an owner being deleted adopts nothing.
 */
export async function claimObjects<T extends StoredObject>(
  api: ApiClient,
  kind: ClaimingKind,
  owner: StoredObject,
  selector: LabelSelector,
  pods: readonly T[],
  dependents: InformerResource,
  cause: number,
  filter?: (o: T) => boolean,
): Promise<T[]> {
  const claimed: T[] = [];
  const errors: Error[] = [];
  let canAdopt: Promise<boolean> | undefined;
  for (const pod of pods) {
    const decision = claimDecision(owner, selector, pod, filter);
    if (decision === 'owned') claimed.push(pod);
    if (decision === 'ignore' || decision === 'owned') continue;
    try {
      if (decision === 'adopt') {
        canAdopt ??= ownerStillLive(api, kind, owner);
        if (!(await canAdopt)) continue;
        const refs = [...ownerRefs(pod), controllerRef(kind, owner)];
        claimed.push(await patchOwners(api, dependents, pod, refs, cause));
      } else {
        const refs = ownerRefs(pod).filter((r) => r.uid !== owner.metadata.uid);
        await patchOwners(api, dependents, pod, refs, cause);
      }
    } catch (e) {
      if (!ApiError.isNotFound(e)) errors.push(e as Error);
    }
  }
  if (errors.length > 0) throw errors[0];
  return claimed;
}

/** A stored object's ownerReferences (StoredObject leaves metadata loosely typed). */
const ownerRefs = (o: StoredObject): OwnerReference[] =>
  Array.isArray(o.metadata.ownerReferences) ? (o.metadata.ownerReferences as OwnerReference[]) : [];

async function ownerStillLive(api: ApiClient, kind: ClaimingKind, owner: StoredObject): Promise<boolean> {
  const fresh = await api.get<StoredObject>(
    resourcePath({ ...kind.resource, namespace: owner.metadata.namespace, name: owner.metadata.name }),
  );
  return fresh.metadata.uid === owner.metadata.uid && !fresh.metadata.deletionTimestamp;
}

function patchOwners<T extends StoredObject>(
  api: ApiClient,
  dependents: InformerResource,
  pod: T,
  refs: OwnerReference[],
  cause: number,
): Promise<T> {
  return api.patch<T>(
    resourcePath({ ...dependents, namespace: pod.metadata.namespace, name: pod.metadata.name }),
    {
      metadata: {
        uid: pod.metadata.uid,
        resourceVersion: pod.metadata.resourceVersion,
        ownerReferences: refs.length > 0 ? refs : null,
      },
    },
    { cause, contentType: 'application/merge-patch+json' },
  );
}
