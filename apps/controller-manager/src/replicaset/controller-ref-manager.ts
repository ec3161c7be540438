import { type LabelSelector, matchesLabels } from '@app/api';
import { type ApiClient, ApiError, resourcePath } from '@app/client';

import { controllerOf, type OwnerReference, type Pod } from './pod-types.js';
import { controllerRef, type ReplicaKind, type ReplicaOwner } from './replica-kind.js';

const POD = { group: '', version: 'v1', plural: 'pods' };

/** What ClaimObject decides for one pod, before any write. */
export type ClaimDecision = 'owned' | 'adopt' | 'release' | 'ignore';

/**
 * ControllerRefManager.ClaimObject (pkg/controller/controller_ref_manager.go): a pod we
 * control is kept while it matches and released when it no longer does (unless we are being
 * deleted); an orphan that matches, in our namespace and not being deleted, is adopted;
 * a pod another controller owns is never touched.
 */
export function claimDecision(owner: ReplicaOwner, selector: LabelSelector, pod: Pod): ClaimDecision {
  const matches = matchesLabels(selector, pod.metadata.labels);
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

/**
 * ClaimPods: applies the decisions, returning the pods this owner now controls. Adopting and
 * releasing are merge patches of the pod's ownerReferences guarded by its uid and
 * resourceVersion (upstream uses a strategic merge patch keyed by uid; replacing the list
 * under a resourceVersion precondition is as safe: a concurrent change conflicts and the sync
 * retries). Before the first adoption the owner is re-read, as upstream's
 * RecheckDeletionTimestamp does, so an owner being deleted adopts nothing.
 */
export async function claimPods(
  api: ApiClient,
  kind: ReplicaKind,
  owner: ReplicaOwner,
  selector: LabelSelector,
  pods: readonly Pod[],
  cause: number,
): Promise<Pod[]> {
  const claimed: Pod[] = [];
  const errors: Error[] = [];
  let canAdopt: Promise<boolean> | undefined;
  for (const pod of pods) {
    const decision = claimDecision(owner, selector, pod);
    if (decision === 'owned') claimed.push(pod);
    if (decision === 'ignore' || decision === 'owned') continue;
    try {
      if (decision === 'adopt') {
        canAdopt ??= ownerStillLive(api, kind, owner);
        if (!(await canAdopt)) continue;
        const refs = [...(pod.metadata.ownerReferences ?? []), controllerRef(kind, owner)];
        claimed.push(await patchOwners(api, pod, refs, cause));
      } else {
        const refs = (pod.metadata.ownerReferences ?? []).filter((r) => r.uid !== owner.metadata.uid);
        await patchOwners(api, pod, refs, cause);
      }
    } catch (e) {
      if (!ApiError.isNotFound(e)) errors.push(e as Error);
    }
  }
  if (errors.length > 0) throw errors[0];
  return claimed;
}

async function ownerStillLive(api: ApiClient, kind: ReplicaKind, owner: ReplicaOwner): Promise<boolean> {
  const fresh = await api.get<ReplicaOwner>(
    resourcePath({ ...kind.resource, namespace: owner.metadata.namespace, name: owner.metadata.name }),
  );
  return fresh.metadata.uid === owner.metadata.uid && !fresh.metadata.deletionTimestamp;
}

function patchOwners(api: ApiClient, pod: Pod, refs: OwnerReference[], cause: number): Promise<Pod> {
  return api.patch<Pod>(
    resourcePath({ ...POD, namespace: pod.metadata.namespace, name: pod.metadata.name }),
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
