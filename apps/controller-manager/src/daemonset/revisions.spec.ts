import { describe, expect, it } from '@jest/globals';

import { type ControllerRevision } from '../history/controller-revision.js';
import { controllerRef } from '../replicaset/replica-kind.js';
import { DAEMON_SET } from './daemonset-types.js';
import {
  keptRevision,
  matchesRevision,
  revisionsToDelete,
  snapshotRevision,
  templateHash,
} from './revisions.js';
import { ds, pod } from './test-objects.js';

const rev = (name: string, revision: number, hash = name): ControllerRevision => ({
  metadata: { name, labels: { 'controller-revision-hash': hash } },
  revision,
});

describe('DaemonSet revisions (update.go)', () => {
  it('snapshot: named by the template hash, labelled, annotated, controlled, the data a template-replacing patch', () => {
    const d = ds();
    d.metadata.annotations = { 'kubernetes.io/change-cause': 'why' };
    const r = snapshotRevision(d, controllerRef(DAEMON_SET, d), 4);
    const hash = templateHash(d);
    expect(r.metadata).toMatchObject({
      name: `ds-${hash}`,
      namespace: 'ns',
      labels: { app: 'a', 'controller-revision-hash': hash },
      annotations: { 'kubernetes.io/change-cause': 'why' },
      ownerReferences: [expect.objectContaining({ kind: 'DaemonSet', uid: 'ds-uid', controller: true })],
    });
    expect(r.revision).toBe(4);
    expect(r.data).toEqual({ spec: { template: { ...d.spec!.template, $patch: 'replace' } } });
    expect(matchesRevision(d, r)).toBe(true);
  });

  it('Match ignores what decoding drops (nulls, empty maps) and tells other templates apart', () => {
    const d = ds();
    const r = snapshotRevision(d, controllerRef(DAEMON_SET, d), 1);
    const withNulls = ds();
    withNulls.spec!.template!.metadata = {
      ...withNulls.spec!.template!.metadata,
      creationTimestamp: null,
    } as never;
    expect(matchesRevision(withNulls, r)).toBe(true);
    expect(matchesRevision(ds({}, { hostNetwork: true }), r)).toBe(false);
  });

  it('the hash changes with the collision count', () => {
    const d = ds();
    const other = ds();
    other.status = { collisionCount: 1 };
    expect(templateHash(d)).not.toBe(templateHash(other));
  });

  it('dedupCurHistories keeps the highest revision', () => {
    expect(keptRevision([rev('a', 2), rev('b', 5), rev('c', 3)]).metadata.name).toBe('b');
  });

  it('cleanupHistory deletes the oldest beyond the limit, sparing revisions live pods carry', () => {
    const old = [rev('r3', 3), rev('r1', 1), rev('r2', 2), rev('r4', 4)];
    const pods = [pod('n', { hash: 'r1' })];
    expect(revisionsToDelete(old, 2, pods).map((r) => r.metadata.name)).toEqual(['r2', 'r3']);
    expect(revisionsToDelete(old, 4, pods)).toEqual([]);
  });
});
