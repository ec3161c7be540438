import { describe, expect, it } from '@jest/globals';

import {
  CONTROLLER_REVISION_HASH_LABEL,
  type ControllerRevision,
  controllerRevisionName,
  equalRevision,
  findEqualRevisions,
  hashControllerRevision,
  newControllerRevision,
  nextRevision,
  sortControllerRevisions,
} from './controller-revision.js';

const parent = { metadata: { name: 'web', namespace: 'ns', uid: 'u1', resourceVersion: '5' } };
const ref = {
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  name: 'web',
  uid: 'u1',
  controller: true,
  blockOwnerDeletion: true,
};
const data = (image: string) => ({ spec: { template: { spec: { containers: [{ name: 'c', image }] } } } });
const revision = (
  image: string,
  n: number,
  at = '2026-01-01T00:00:00Z',
  collisions?: number,
): ControllerRevision => {
  const r = newControllerRevision(parent, ref, { app: 'web' }, data(image), n, collisions);
  r.metadata.creationTimestamp = at;
  return r;
};

describe('controller revisions (pkg/controller/history)', () => {
  it('names a revision after its parent and hash, labelled and owned like upstream', () => {
    const r = revision('a', 1);
    const hash = r.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL];
    expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(r.metadata.name).toBe(`web-${hash}`);
    expect(r.metadata.labels).toMatchObject({ app: 'web' });
    expect(r.metadata.ownerReferences).toEqual([ref]);
    expect(r).toMatchObject({ kind: 'ControllerRevision', revision: 1, data: data('a') });
  });

  it('hashes equal data alike whatever the key order, different data and collision counts apart', () => {
    expect(hashControllerRevision({ a: 1, b: 2 })).toBe(hashControllerRevision({ b: 2, a: 1 }));
    expect(hashControllerRevision(data('a'))).not.toBe(hashControllerRevision(data('b')));
    expect(hashControllerRevision(data('a'), 1)).not.toBe(hashControllerRevision(data('a')));
    expect(hashControllerRevision(data('a'), 1)).not.toBe(hashControllerRevision(data('a'), 2));
  });

  it('cuts a long parent name so name and hash fit a DNS subdomain', () => {
    expect(controllerRevisionName('x'.repeat(300), 'abc')).toBe(`${'x'.repeat(223)}-abc`);
  });

  it('finds equal revisions and sorts by revision, then time, then name', () => {
    const a1 = revision('a', 1);
    const b2 = revision('b', 2, '2026-01-01T00:00:02Z');
    const b2early = {
      ...revision('b', 2, '2026-01-01T00:00:01Z'),
      metadata: { ...b2.metadata, name: 'z', creationTimestamp: '2026-01-01T00:00:01Z' },
    };
    expect(equalRevision(a1, revision('a', 7))).toBe(true);
    expect(equalRevision(a1, b2)).toBe(false);
    expect(findEqualRevisions([a1, b2], revision('b', 9))).toEqual([b2]);
    expect(sortControllerRevisions([b2, a1, b2early]).map((r) => r.metadata.creationTimestamp)).toEqual([
      '2026-01-01T00:00:00Z',
      '2026-01-01T00:00:01Z',
      '2026-01-01T00:00:02Z',
    ]);
    expect(nextRevision([])).toBe(1);
    expect(nextRevision([b2, a1])).toBe(3);
  });
});
