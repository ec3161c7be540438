import { describe, expect, it } from '@jest/globals';

import { setNewReplicaSetAnnotations, setsToCleanUp } from './revisions.js';
import { deployment, replicaSet } from './test-objects.js';

const replicas = { desired: 3, max: 4 };

describe('revisions (deployment_util.go SetNewReplicaSetAnnotations, sync.go cleanupDeployment)', () => {
  it('a new set gets the revision, the replicas annotations and the Deployment’s annotations but the skipped ones', () => {
    const d = deployment(3);
    d.metadata.annotations = {
      'kubernetes.io/change-cause': 'kubectl set image',
      'kubectl.kubernetes.io/last-applied-configuration': '{}',
      'deployment.kubernetes.io/revision': '1',
      team: 'a',
    };
    const a: Record<string, string> = {};
    expect(setNewReplicaSetAnnotations(d, a, 2, false, replicas)).toBe(true);
    expect(a).toEqual({
      'kubernetes.io/change-cause': 'kubectl set image',
      team: 'a',
      'deployment.kubernetes.io/revision': '2',
      'deployment.kubernetes.io/desired-replicas': '3',
      'deployment.kubernetes.io/max-replicas': '4',
    });
    // Nothing changes the second time; an existing set does not get the replicas annotations here.
    expect(setNewReplicaSetAnnotations(d, a, 2, true, replicas)).toBe(false);
    const existing: Record<string, string> = { 'deployment.kubernetes.io/revision': '2' };
    setNewReplicaSetAnnotations(deployment(3), existing, 2, true, replicas);
    expect(existing).toEqual({ 'deployment.kubernetes.io/revision': '2' });
  });

  it('a set rolled back to keeps its old revisions in revision-history', () => {
    const a: Record<string, string> = { 'deployment.kubernetes.io/revision': '1' };
    setNewReplicaSetAnnotations(deployment(3), a, 3, true, replicas);
    expect(a).toMatchObject({
      'deployment.kubernetes.io/revision': '3',
      'deployment.kubernetes.io/revision-history': '1',
    });
    setNewReplicaSetAnnotations(deployment(3), a, 5, true, replicas);
    expect(a['deployment.kubernetes.io/revision-history']).toBe('1,3');
    // A lower revision never replaces a higher one.
    expect(setNewReplicaSetAnnotations(deployment(3), a, 4, true, replicas)).toBe(false);
  });

  it('drops the oldest revisions from revision-history past the length limit', () => {
    const a: Record<string, string> = {
      'deployment.kubernetes.io/revision': '13',
      'deployment.kubernetes.io/revision-history': '10,11,12',
    };
    // "10,11,12" + ",13" is 11 characters: within 7, "10" and "11" go.
    setNewReplicaSetAnnotations(deployment(3), a, 14, true, replicas, 7);
    expect(a['deployment.kubernetes.io/revision-history']).toBe('12,13');
  });

  it('leaves an unparsable revision alone', () => {
    const a: Record<string, string> = { 'deployment.kubernetes.io/revision': 'x' };
    expect(setNewReplicaSetAnnotations(deployment(3), a, 2, true, replicas)).toBe(false);
    expect(a['deployment.kubernetes.io/revision']).toBe('x');
  });

  // TestDeploymentController_cleanupDeployment.
  const rev = (
    name: string,
    revision: number,
    size = 0,
    o: { observed?: number; deleting?: boolean } = {},
  ) => {
    const rs = replicaSet(name, size, {
      annotations: { 'deployment.kubernetes.io/revision': String(revision) },
      generation: 1,
      observed: o.observed ?? 1,
    });
    if (o.deleting) rs.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
    return rs;
  };
  const names = (sets: { metadata: { name?: string } }[]) => sets.map((s) => s.metadata.name);

  it('deletes the lowest revisions past revisionHistoryLimit', () => {
    const old = [rev('c', 3), rev('a', 1), rev('b', 2)];
    expect(names(setsToCleanUp(deployment(1, { revisionHistoryLimit: 1 }), old))).toEqual(['a', 'b']);
    expect(names(setsToCleanUp(deployment(1, { revisionHistoryLimit: 0 }), old))).toEqual(['a', 'b', 'c']);
    expect(setsToCleanUp(deployment(1, { revisionHistoryLimit: 3 }), old)).toEqual([]);
    expect(setsToCleanUp(deployment(1), old)).toEqual([]);
  });

  it('skips sets with pods, not yet observed, or being deleted (which do not count either)', () => {
    const d = deployment(1, { revisionHistoryLimit: 0 });
    expect(names(setsToCleanUp(d, [rev('a', 1, 1), rev('b', 2, 0, { observed: 0 }), rev('c', 3)]))).toEqual([
      'c',
    ]);
    expect(
      names(
        setsToCleanUp(deployment(1, { revisionHistoryLimit: 1 }), [
          rev('a', 1, 0, { deleting: true }),
          rev('b', 2),
        ]),
      ),
    ).toEqual([]);
  });
});
