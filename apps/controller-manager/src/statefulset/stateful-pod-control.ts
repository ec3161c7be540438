import { type ApiClient, ApiError, type EventRecorder, resourcePath } from '@app/client';

import {
  claimOwnerRefsFor,
  identityMatches,
  persistentVolumeClaims,
  type StatefulPod,
  storageMatches,
  updateIdentity,
  updateStorage,
} from './identity.js';
import { CLAIMS, PODS, type PersistentVolumeClaim, type StatefulSet } from './statefulset-types.js';

const isAlreadyExists = (e: unknown): boolean => e instanceof ApiError && e.reason === 'AlreadyExists';
const title = (verb: string) => verb[0].toUpperCase() + verb.slice(1);
/** client-go's DefaultBackoff has 4 steps: an update conflicting that often gives up until the next sync. */
const CONFLICT_RETRIES = 4;

export interface StatefulPodControlOptions {
  api: ApiClient;
  events: EventRecorder;
  /** The PVC of that namespace/name from the shared cache. */
  claim: (namespace: string, name: string) => PersistentVolumeClaim | undefined;
}

/**
 * StatefulPodControl (pkg/controller/statefulset/stateful_pod_control.go): the writes of a
 * StatefulSet's sync — a pod's claims before the pod, identity and storage fixes, deletions,
 * the claims' ownerReferences for the retention policy — each with upstream's Event. Every
 * write carries `cause`, the resourceVersion of the set version being reconciled.
 */
export class StatefulPodControl {
  constructor(private readonly o: StatefulPodControlOptions) {}

  /** CreateStatefulPod: the claims first; AlreadyExists is returned without an Event. */
  async createStatefulPod(set: StatefulSet, pod: StatefulPod, cause: number): Promise<void> {
    let claims: PersistentVolumeClaim[];
    try {
      claims = await this.createPersistentVolumeClaims(set, pod, cause);
    } catch (e) {
      this.recordPodEvent('create', set, pod, cause, e as Error);
      throw e;
    }
    let created: StatefulPod;
    try {
      created = await this.o.api.create<StatefulPod>(
        resourcePath({ ...PODS, namespace: pod.metadata.namespace }),
        pod,
        { cause },
      );
    } catch (e) {
      if (!isAlreadyExists(e)) this.recordPodEvent('create', set, pod, cause, e as Error);
      throw e;
    }
    try {
      await this.updateClaimsForRetentionPolicy(set, created, cause, claims);
    } catch (e) {
      this.recordPodEvent('update', set, pod, cause, e as Error);
      throw e;
    }
    this.recordPodEvent('create', set, pod, cause);
  }

  /**
   * UpdateStatefulPod: restores the pod's identity and storage (creating missing claims) and its
   * claims' owners; writes only when something changed, re-reading the pod on a conflict.
   */
  async updateStatefulPod(set: StatefulSet, cached: StatefulPod, cause: number): Promise<void> {
    let pod = cached;
    let attempted = false;
    let error: Error | undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        let consistent = true;
        if (!identityMatches(set, pod)) {
          pod = updateIdentity(set, pod);
          consistent = false;
        }
        if (!storageMatches(set, pod)) {
          pod = updateStorage(set, pod);
          consistent = false;
          await this.createPersistentVolumeClaims(set, pod, cause);
        }
        if (await this.updateClaimsForRetentionPolicy(set, pod, cause)) consistent = false;
        if (consistent) break;
        attempted = true;
        const path = resourcePath({ ...PODS, namespace: pod.metadata.namespace, name: pod.metadata.name });
        try {
          await this.o.api.update(path, pod, { cause });
          break;
        } catch (e) {
          if (!ApiError.isConflict(e) || attempt >= CONFLICT_RETRIES) throw e;
          pod = await this.o.api.get<StatefulPod>(path);
        }
      } catch (e) {
        error = e as Error;
        break;
      }
    }
    if (attempted || error) this.recordPodEvent('update', set, pod, cause, error);
    if (error) throw error;
  }

  /** DeleteStatefulPod. */
  async deleteStatefulPod(set: StatefulSet, pod: StatefulPod, cause: number): Promise<void> {
    try {
      await this.o.api.delete(
        resourcePath({ ...PODS, namespace: pod.metadata.namespace, name: pod.metadata.name }),
        undefined,
        { cause },
      );
    } catch (e) {
      this.recordPodEvent('delete', set, pod, cause, e as Error);
      throw e;
    }
    this.recordPodEvent('delete', set, pod, cause);
  }

  /**
   * createPersistentVolumeClaims: each of the pod's claims that does not exist is created (with
   * a "create Claim" Event); one being deleted is an error (the pod would bind to a claim about
   * to go). Returns the claims as they now are. A claim our cache has not shown yet, created
   * by an earlier sync, answers AlreadyExists: upstream fails the sync on it and retries; here
   * it counts as there.
   */
  async createPersistentVolumeClaims(
    set: StatefulSet,
    pod: StatefulPod,
    cause: number,
  ): Promise<PersistentVolumeClaim[]> {
    const errors: Error[] = [];
    const out: PersistentVolumeClaim[] = [];
    for (const { claim } of persistentVolumeClaims(set, pod)) {
      const name = claim.metadata.name ?? '';
      const existing = this.o.claim(claim.metadata.namespace ?? '', name);
      if (existing) {
        if (existing.metadata.deletionTimestamp) errors.push(new Error(`pvc ${name} is being deleted`));
        else out.push(existing);
        continue;
      }
      try {
        out.push(
          await this.o.api.create<PersistentVolumeClaim>(
            resourcePath({ ...CLAIMS, namespace: claim.metadata.namespace }),
            claim,
            { cause },
          ),
        );
        this.recordClaimEvent('create', set, pod, name, cause);
      } catch (e) {
        if (isAlreadyExists(e)) continue;
        this.recordClaimEvent('create', set, pod, name, cause, e as Error);
        errors.push(new Error(`failed to create PVC ${name}: ${(e as Error).message}`));
      }
    }
    if (errors.length > 0) throw new Error(errors.map((e) => e.message).join(', '));
    return out;
  }

  /**
   * UpdatePodClaimForRetentionPolicy: gives each existing claim of the pod the ownerReferences
   * the set's persistentVolumeClaimRetentionPolicy wants. True when a claim was written.
   */
  async updateClaimsForRetentionPolicy(
    set: StatefulSet,
    pod: StatefulPod,
    cause: number,
    known: readonly PersistentVolumeClaim[] = [],
  ): Promise<boolean> {
    let wrote = false;
    for (const { claim } of persistentVolumeClaims(set, pod)) {
      const name = claim.metadata.name ?? '';
      const current =
        known.find((c) => c.metadata.name === name) ?? this.o.claim(claim.metadata.namespace ?? '', name);
      // A missing claim is picked up by a later sync.
      if (!current) continue;
      const refs = claimOwnerRefsFor(current, set, pod);
      if (!refs) continue;
      try {
        await this.o.api.patch(
          resourcePath({ ...CLAIMS, namespace: current.metadata.namespace, name }),
          {
            metadata: {
              uid: current.metadata.uid,
              resourceVersion: current.metadata.resourceVersion,
              ownerReferences: refs.length > 0 ? refs : null,
            },
          },
          { cause, contentType: 'application/merge-patch+json' },
        );
      } catch (e) {
        throw new Error(
          `could not update claim ${name} for delete policy ownerRefs: ${(e as Error).message}`,
          { cause: e },
        );
      }
      wrote = true;
    }
    return wrote;
  }

  /** recordPodEvent: "create Pod web-0 in StatefulSet web successful" / "… failed error: …". */
  private recordPodEvent(verb: string, set: StatefulSet, pod: StatefulPod, cause: number, err?: Error) {
    const [type, reason, message] = err
      ? ([
          'Warning',
          `Failed${title(verb)}`,
          `${verb} Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${err.message}`,
        ] as const)
      : ([
          'Normal',
          `Successful${title(verb)}`,
          `${verb} Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`,
        ] as const);
    this.record(set, type, reason, message, cause);
  }

  /** recordClaimEvent: "create Claim data-web-0 Pod web-0 in StatefulSet web success". */
  private recordClaimEvent(
    verb: string,
    set: StatefulSet,
    pod: StatefulPod,
    claim: string,
    cause: number,
    err?: Error,
  ) {
    const [type, reason, message] = err
      ? ([
          'Warning',
          `Failed${title(verb)}`,
          `${verb} Claim ${claim} for Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${err.message}`,
        ] as const)
      : ([
          'Normal',
          `Successful${title(verb)}`,
          `${verb} Claim ${claim} Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} success`,
        ] as const);
    this.record(set, type, reason, message, cause);
  }

  private record(
    set: StatefulSet,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    cause: number,
  ) {
    // Listed objects carry no kind; the Event's involvedObject must name it (kubectl describe matches on it).
    const object = { ...set, apiVersion: 'apps/v1', kind: 'StatefulSet' };
    this.o.events.record({ object, type, reason, message, cause });
  }
}
