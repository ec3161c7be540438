import { describe, expect, it } from '@jest/globals';
import fastJsonPatch from 'fast-json-patch';

import { changedFields, fieldDiff, fieldPath, formatDiff } from './field-diff.js';

const diff = (before: object, after: object, all = false) =>
  formatDiff(fieldDiff(before, after, fastJsonPatch.compare(before, after), { all }), '');

describe('field-path diff of two versions', () => {
  it('shows a changed scalar as its old value then its new one', () => {
    expect(diff({ spec: { replicas: 1 } }, { spec: { replicas: 3 } })).toEqual([
      '- spec.replicas: 1',
      '+ spec.replicas: 3',
    ]);
  });

  it('spells added and removed subtrees out leaf by leaf, in path order', () => {
    const before = {
      metadata: { name: 'web' },
      spec: { template: { spec: { containers: [{ name: 'c', image: 'a' }] } } },
    };
    const after = {
      metadata: { name: 'web', labels: { app: 'web', 'app.kubernetes.io/name': 'web' } },
      spec: {
        template: {
          spec: {
            containers: [
              { name: 'c', image: 'b' },
              { name: 'd', image: 'x', args: [] },
            ],
          },
        },
      },
    };
    expect(diff(before, after)).toEqual([
      '+ metadata.labels.app: "web"',
      '+ metadata.labels["app.kubernetes.io/name"]: "web"',
      '- spec.template.spec.containers[0].image: "a"',
      '+ spec.template.spec.containers[0].image: "b"',
      '+ spec.template.spec.containers[1].args: []',
      '+ spec.template.spec.containers[1].image: "x"',
      '+ spec.template.spec.containers[1].name: "d"',
    ]);
    expect(diff(after, before)).toContain('- spec.template.spec.containers[1].name: "d"');
  });

  it('diffs a first version from nothing: every leaf added', () => {
    expect(diff({}, { data: { k: 'v' }, metadata: { name: 'cm' } })).toEqual([
      '+ data.k: "v"',
      '+ metadata.name: "cm"',
    ]);
  });

  it('keeps a map key that looks like an index a key, and orders indexes numerically', () => {
    const before = { metadata: { labels: {} }, items: Array.from({ length: 10 }, () => 0) };
    const after = { metadata: { labels: { '0': 'x' } }, items: [...before.items, 1, 2] };
    expect(diff(before, after)).toEqual(['+ items[10]: 1', '+ items[11]: 2', '+ metadata.labels["0"]: "x"']);
  });

  it('a value changing type (object to scalar) removes the old leaves and adds the new', () => {
    expect(diff({ spec: { x: { a: 1 } } }, { spec: { x: null } })).toEqual([
      '- spec.x.a: 1',
      '+ spec.x: null',
    ]);
  });

  it('leaves out managedFields and resourceVersion unless asked', () => {
    const before = {
      metadata: { resourceVersion: '5', managedFields: [{ manager: 'kubectl' }] },
      data: { k: 'v' },
    };
    const after = {
      metadata: { resourceVersion: '9', managedFields: [{ manager: 'kubectl', time: 't' }] },
      data: { k: 'w' },
    };
    expect(diff(before, after)).toEqual(['- data.k: "v"', '+ data.k: "w"']);
    expect(diff(before, after, true)).toEqual([
      '- data.k: "v"',
      '+ data.k: "w"',
      '+ metadata.managedFields[0].time: "t"',
      '- metadata.resourceVersion: "5"',
      '+ metadata.resourceVersion: "9"',
    ]);
  });

  it('summarises a change as the fields it touched, two levels deep', () => {
    const before = { spec: { containers: [] }, status: { phase: 'Pending' } };
    const after = {
      spec: { containers: [], nodeName: 'n1' },
      status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] },
    };
    expect(changedFields(before, after, fastJsonPatch.compare(before, after))).toEqual([
      'spec.nodeName',
      'status.conditions',
    ]);
  });

  it('writes paths as kubectl users read them', () => {
    expect(fieldPath(['spec', 'containers', 0, 'image'])).toBe('spec.containers[0].image');
    expect(fieldPath(['metadata', 'annotations', 'a/b'])).toBe('metadata.annotations["a/b"]');
  });
});
