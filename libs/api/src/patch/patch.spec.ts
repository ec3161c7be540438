import { describe, expect, it } from '@jest/globals';

import { thrownStatus } from '@app/testing';

import { applyJsonPatch } from './json-patch.js';
import { applyMergePatch } from './merge-patch.js';
import { applyStrategicMergePatch } from './strategic-merge-patch.js';

const deployment = {
  metadata: { name: 'shop', labels: { app: 'shop' } },
  spec: {
    replicas: 1,
    template: {
      spec: {
        containers: [
          {
            name: 'app',
            image: 'nginx:1.25',
            env: [
              { name: 'A', value: '1' },
              { name: 'B', value: '2' },
            ],
          },
          { name: 'sidecar', image: 'busybox' },
        ],
      },
    },
  },
};

describe('merge patch (RFC 7386)', () => {
  it('merges maps, removes on null, replaces lists', () => {
    expect(applyMergePatch({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { b: null, d: 3 }, l: [3] })).toEqual({
      a: { c: 2, d: 3 },
      l: [3],
    });
  });
});

describe('JSON patch (RFC 6902)', () => {
  it('applies operations without touching its input', () => {
    const out = applyJsonPatch(deployment, [{ op: 'replace', path: '/spec/replicas', value: 3 }]);
    expect((out as typeof deployment).spec.replicas).toBe(3);
    expect(deployment.spec.replicas).toBe(1);
  });

  it('answers 422 when an operation cannot apply and 400 when the patch is not a list', () => {
    expect(
      thrownStatus(() => applyJsonPatch(deployment, [{ op: 'test', path: '/spec/replicas', value: 9 }])),
    ).toMatchObject({ code: 422 });
    expect(thrownStatus(() => applyJsonPatch(deployment, { op: 'add' }))).toMatchObject({
      code: 400,
      reason: 'BadRequest',
    });
  });

  it('refuses more than 10,000 operations with 413', () => {
    const ops = Array.from({ length: 10_001 }, () => ({ op: 'test', path: '/metadata/name', value: 'shop' }));
    expect(thrownStatus(() => applyJsonPatch(deployment, ops))).toMatchObject({ code: 413 });
  });
});

describe('strategic merge patch', () => {
  it('applies the patch kubectl apply sends to drop an env var and a container', () => {
    const patch = {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'app' }],
            containers: [
              {
                '$setElementOrder/env': [{ name: 'A' }],
                env: [{ $patch: 'delete', name: 'B' }],
                image: 'nginx:1.26',
                name: 'app',
              },
              { $patch: 'delete', name: 'sidecar' },
            ],
          },
        },
      },
    };
    const out = applyStrategicMergePatch(deployment, patch) as typeof deployment;
    expect(out.spec.template.spec.containers).toEqual([
      { name: 'app', image: 'nginx:1.26', env: [{ name: 'A', value: '1' }] },
    ]);
  });

  it('sets one image by container name and keeps the others (kubectl set image)', () => {
    const out = applyStrategicMergePatch(deployment, {
      spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'busybox:1.36' }] } } },
    }) as typeof deployment;
    expect(out.spec.template.spec.containers.map((c) => c.image)).toEqual(['nginx:1.25', 'busybox:1.36']);
  });

  it('replaces lists without a merge key, honours $patch: replace and null', () => {
    const out = applyStrategicMergePatch(
      { spec: { args: ['a', 'b'], selector: { app: 'x', tier: 'y' } }, metadata: { labels: { a: '1' } } },
      { spec: { args: ['c'], selector: { $patch: 'replace', app: 'z' } }, metadata: { labels: { a: null } } },
    );
    expect(out).toEqual({ spec: { args: ['c'], selector: { app: 'z' } }, metadata: { labels: {} } });
  });

  it('merges finalizers as a set and deletes from primitive lists', () => {
    const out = applyStrategicMergePatch(
      { metadata: { finalizers: ['a', 'b'] } },
      { metadata: { finalizers: ['c', 'a'], '$deleteFromPrimitiveList/finalizers': ['b'] } },
    );
    expect(out).toEqual({ metadata: { finalizers: ['a', 'c'] } });
  });
});
