import {
  type ControllerRevision,
  equalRevision,
  findEqualRevisions,
  newControllerRevision,
  nextRevision,
  sortControllerRevisions,
} from '../history/controller-revision.js';
import { controllerRef } from '../replicaset/replica-kind.js';
import { getPodRevision, type StatefulPod } from './identity.js';
import { STATEFUL_SET, type PodTemplate, type StatefulSet } from './statefulset-types.js';

/** The data of a StatefulSet's revision: its template, replacing the set's whole (getPatch). */
export interface StatefulSetPatch {
  spec: { template: PodTemplate & { $patch: 'replace' } };
}

/**
 * getPatch (stateful_set_utils.go): `{"spec":{"template":{…,"$patch":"replace"}}}` — the
 * strategic merge patch that turns any version of the set into this revision's template;
 * `kubectl rollout undo` applies it as it is.
 */
export function getPatch(set: StatefulSet): StatefulSetPatch {
  return { spec: { template: { ...structuredClone(set.spec?.template ?? {}), $patch: 'replace' } } };
}

/** newRevision: the set's template as revision `revision`, carrying the set's annotations (change-cause). */
export function newRevision(set: StatefulSet, revision: number, collisionCount: number): ControllerRevision {
  const cr = newControllerRevision(
    set,
    controllerRef(STATEFUL_SET, set),
    set.spec?.template?.metadata?.labels,
    getPatch(set),
    revision,
    collisionCount,
  );
  cr.metadata.annotations = { ...(cr.metadata.annotations ?? {}), ...(set.metadata.annotations ?? {}) };
  return cr;
}

/**
 * ApplyRevision: the set with the revision's template. Upstream strategic-merges the patch into
 * the set; with `$patch: replace` on the template that is the template replaced whole.
 */
export function applyRevision(set: StatefulSet, revision: ControllerRevision): StatefulSet {
  const data = revision.data as Partial<StatefulSetPatch> | undefined;
  const patched = data?.spec?.template;
  if (!patched) return set;
  const { $patch: _, ...template } = structuredClone(patched);
  return { ...set, spec: { ...set.spec, template } };
}

/** What getStatefulSetRevisions decides before writing anything. */
export type UpdateRevisionChoice =
  /** The newest revision already is the set's template. */
  | { kind: 'latest'; revision: ControllerRevision }
  /** An older revision is (a rollback): raise its revision number to `revision`. */
  | { kind: 'raise'; revision: ControllerRevision; to: number }
  /** No revision has the template: create this one. */
  | { kind: 'create'; revision: ControllerRevision };

/** The first half of getStatefulSetRevisions: which revision the set's current template is. */
export function chooseUpdateRevision(
  set: StatefulSet,
  revisions: readonly ControllerRevision[],
): UpdateRevisionChoice {
  const sorted = sortControllerRevisions(revisions);
  const candidate = newRevision(set, nextRevision(sorted), set.status?.collisionCount ?? 0);
  const equal = findEqualRevisions(sorted, candidate);
  const last = equal[equal.length - 1];
  if (last && equalRevision(sorted[sorted.length - 1], last)) return { kind: 'latest', revision: last };
  if (last) return { kind: 'raise', revision: last, to: candidate.revision };
  return { kind: 'create', revision: candidate };
}

/** The second half: the current revision is the one status.currentRevision names, else the update revision. */
export function findCurrentRevision(
  set: StatefulSet,
  revisions: readonly ControllerRevision[],
  update: ControllerRevision,
): ControllerRevision {
  return revisions.find((r) => r.metadata.name === set.status?.currentRevision) ?? update;
}

/**
 * truncateHistory: the oldest revisions past revisionHistoryLimit, never one that is current,
 * the update revision, or the revision of a live pod.
 */
export function revisionsToTruncate(
  set: StatefulSet,
  pods: readonly StatefulPod[],
  revisions: readonly ControllerRevision[],
  current: ControllerRevision | undefined,
  update: ControllerRevision | undefined,
): ControllerRevision[] {
  const live = new Set<string>(pods.map(getPodRevision));
  if (current?.metadata.name) live.add(current.metadata.name);
  if (update?.metadata.name) live.add(update.metadata.name);
  const history = sortControllerRevisions(revisions).filter((r) => !live.has(r.metadata.name ?? ''));
  const limit = set.spec?.revisionHistoryLimit ?? 10;
  return history.length <= limit ? [] : history.slice(0, history.length - limit);
}
