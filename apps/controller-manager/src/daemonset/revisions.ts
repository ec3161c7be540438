import { canonicalJson } from '@app/event-store';

import { type ControllerRevision } from '../history/controller-revision.js';
import { canonicalTemplate, computeHash } from '../deployment/template-hash.js';
import { type OwnerReference } from '../owner-reference.js';
import { type Pod } from '../replicaset/pod-types.js';
import { DAEMONSET_HASH_LABEL, type DaemonSet } from './daemonset-types.js';

/**
 * getPatch (pkg/controller/daemon/update.go): the revision's data is a strategic merge patch
 * replacing spec.template — what `kubectl rollout undo` applies to go back to it.
 */
export function templatePatch(ds: DaemonSet): { spec: { template: Record<string, unknown> } } {
  return { spec: { template: { ...structuredClone(ds.spec?.template ?? {}), $patch: 'replace' } } };
}

function revisionTemplate(r: ControllerRevision): unknown {
  const data = r.data as { spec?: { template?: Record<string, unknown> } } | undefined;
  const { $patch: _replace, ...template } = data?.spec?.template ?? {};
  return template;
}

/**
 * Match: the revision holds this DaemonSet's template. Upstream compares the patch bytes; we
 * compare the templates as Go would decode them (nulls and empty values dropped), which the
 * same template always passes whatever client wrote it.
 */
export function matchesRevision(ds: DaemonSet, r: ControllerRevision): boolean {
  return (
    canonicalJson(canonicalTemplate(ds.spec?.template ?? {})) ===
    canonicalJson(canonicalTemplate(revisionTemplate(r)))
  );
}

/** The hash snapshot names a revision by: controller.ComputeHash of the template and collision count. */
export const templateHash = (ds: DaemonSet): string =>
  computeHash(ds.spec?.template, ds.status?.collisionCount);

/**
 * snapshot: the revision for the DaemonSet's current template — named `<ds>-<hash>`, labelled
 * with the template's labels and the hash, annotated as the DaemonSet (change-cause among
 * them), controlled by it.
 */
export function snapshotRevision(ds: DaemonSet, ref: OwnerReference, revision: number): ControllerRevision {
  const hash = templateHash(ds);
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: `${ds.metadata.name}-${hash}`,
      namespace: ds.metadata.namespace,
      labels: {
        ...(ds.spec?.template?.metadata?.labels as Record<string, string>),
        [DAEMONSET_HASH_LABEL]: hash,
      },
      annotations: ds.metadata.annotations,
      ownerReferences: [ref],
    },
    data: templatePatch(ds),
    revision,
  };
}

/** dedupCurHistories: of several revisions holding the current template, the highest revision stays. */
export function keptRevision(current: readonly ControllerRevision[]): ControllerRevision {
  let keep = current[0];
  for (const r of current) if (r.revision >= keep.revision) keep = r;
  return keep;
}

/**
 * cleanupHistory: the oldest old revisions beyond revisionHistoryLimit, except those whose
 * hash a live pod (deleted terminal ones included) still carries.
 */
export function revisionsToDelete(
  old: readonly ControllerRevision[],
  limit: number,
  pods: readonly Pod[],
): ControllerRevision[] {
  let toKill = old.length - limit;
  if (toKill <= 0) return [];
  const live = new Set(pods.map((p) => p.metadata.labels?.[DAEMONSET_HASH_LABEL]).filter(Boolean));
  const out: ControllerRevision[] = [];
  for (const r of [...old].sort((a, b) => a.revision - b.revision)) {
    if (toKill <= 0) break;
    if (live.has(r.metadata.labels?.[DAEMONSET_HASH_LABEL])) continue;
    out.push(r);
    toKill--;
  }
  return out;
}
