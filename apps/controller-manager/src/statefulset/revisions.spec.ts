import { describe, expect, it } from '@jest/globals';

import { CONTROLLER_REVISION_HASH_LABEL } from '../history/controller-revision.js';
import { type StatefulPod } from './identity.js';
import {
  applyRevision,
  chooseUpdateRevision,
  findCurrentRevision,
  getPatch,
  newRevision,
  revisionsToTruncate,
} from './revisions.js';
import { completeRollingUpdate, inconsistentStatus } from './status.js';
import { type StatefulSet } from './statefulset-types.js';
import { newStatefulSet, revisionOf } from './test-objects.js';

const withImage = (set: StatefulSet, image: string): StatefulSet => ({
  ...set,
  spec: {
    ...set.spec,
    template: { ...set.spec!.template, spec: { containers: [{ name: 'nginx', image }] } },
  },
});

describe('StatefulSet revisions', () => {
  it('TestCreateApplyRevision: the revision holds the template as a replacing patch and applies back to it', () => {
    const set = newStatefulSet(1);
    set.metadata.annotations = { 'kubernetes.io/change-cause': 'first' };
    const rev = newRevision(set, 1, 0);
    expect(rev.data).toEqual({ spec: { template: { ...set.spec!.template, $patch: 'replace' } } });
    expect(getPatch(set)).toEqual(rev.data);
    expect(rev.metadata.name).toBe(`foo-${rev.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL]}`);
    expect(rev.metadata.labels).toMatchObject({ foo: 'bar' });
    expect(rev.metadata.annotations).toEqual({ 'kubernetes.io/change-cause': 'first' });
    expect(rev.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'StatefulSet', uid: 'set-uid', controller: true }),
    ]);
    const changed = withImage(set, 'nginx:2');
    const restored = applyRevision(changed, rev);
    expect(restored.spec?.template).toEqual(set.spec?.template);
    expect(restored.spec?.replicas).toBe(1);
    // A collision count changes the name.
    expect(newRevision(set, 1, 1).metadata.name).not.toBe(rev.metadata.name);
  });

  it('getStatefulSetRevisions: the latest, a raised older one (rollback), or a new one', () => {
    const v1 = newStatefulSet(1);
    const v2 = withImage(v1, 'nginx:2');
    const r1 = revisionOf(v1, 1);
    const r2 = revisionOf(v2, 2);
    expect(chooseUpdateRevision(v1, [])).toMatchObject({ kind: 'create', revision: { revision: 1 } });
    expect(chooseUpdateRevision(v1, [r1])).toEqual({ kind: 'latest', revision: r1 });
    expect(chooseUpdateRevision(v2, [r1])).toMatchObject({
      kind: 'create',
      revision: { revision: 2, metadata: { name: r2.metadata.name } },
    });
    expect(chooseUpdateRevision(v1, [r2, r1])).toEqual({ kind: 'raise', revision: r1, to: 3 });
    const withStatus = { ...v2, status: { replicas: 1, currentRevision: r1.metadata.name } };
    expect(findCurrentRevision(withStatus, [r1, r2], r2)).toBe(r1);
    expect(findCurrentRevision(v2, [r1, r2], r2)).toBe(r2);
  });

  it('truncateHistory: the oldest beyond revisionHistoryLimit, never a live one', () => {
    const base = newStatefulSet(1, { revisionHistoryLimit: 1 });
    const revs = [1, 2, 3, 4, 5].map((n) => revisionOf(withImage(base, `nginx:${n}`), n));
    const pod = {
      metadata: { name: 'foo-0', labels: { 'controller-revision-hash': revs[1].metadata.name! } },
    } as StatefulPod;
    // Live: 2 (a pod's), 4 (current), 5 (update); history 1 and 3, one kept.
    expect(revisionsToTruncate(base, [pod], revs, revs[3], revs[4]).map((r) => r.revision)).toEqual([1]);
    expect(
      revisionsToTruncate(
        { ...base, spec: { ...base.spec, revisionHistoryLimit: 2 } },
        [pod],
        revs,
        revs[3],
        revs[4],
      ),
    ).toEqual([]);
  });

  it('completeRollingUpdate and inconsistentStatus', () => {
    const set = newStatefulSet(3);
    const status = {
      replicas: 3,
      readyReplicas: 3,
      updatedReplicas: 3,
      currentReplicas: 0,
      currentRevision: 'a',
      updateRevision: 'b',
      observedGeneration: 1,
    };
    expect(completeRollingUpdate(set, status)).toMatchObject({ currentReplicas: 3, currentRevision: 'b' });
    expect(completeRollingUpdate(set, { ...status, readyReplicas: 2 })).toMatchObject({
      currentRevision: 'a',
    });
    const onDelete = { ...set, spec: { ...set.spec, updateStrategy: { type: 'OnDelete' as const } } };
    expect(completeRollingUpdate(onDelete, status)).toMatchObject({ currentRevision: 'a' });
    expect(inconsistentStatus(set, status)).toBe(true);
    expect(
      inconsistentStatus(
        { ...set, status: { ...status, availableReplicas: 0, collisionCount: 0 } },
        { ...status, availableReplicas: 0 },
      ),
    ).toBe(false);
  });
});
