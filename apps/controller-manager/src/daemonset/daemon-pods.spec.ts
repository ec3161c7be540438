import { describe, expect, it } from '@jest/globals';

import {
  byCreationTimestampAndPhase,
  createPodTemplate,
  isPodUpdated,
  replaceNodeNameAffinity,
  targetNodeName,
} from './daemon-pods.js';
import { pod } from './test-objects.js';

const pinned = (node: string) => ({
  nodeAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] }],
    },
  },
});

describe('daemon pods (daemonset_util.go)', () => {
  it('ReplaceDaemonSetPodNodeNameNodeAffinity: the required terms become metadata.name In [node], the rest stays', () => {
    expect(replaceNodeNameAffinity(undefined, 'n1')).toEqual(pinned('n1'));
    const preferred = [{ weight: 1, preference: { matchExpressions: [{ key: 'z', operator: 'Exists' }] } }];
    const affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] }],
        },
        preferredDuringSchedulingIgnoredDuringExecution: preferred,
      },
      podAntiAffinity: {},
    };
    expect(replaceNodeNameAffinity(affinity, 'n2')).toEqual({
      nodeAffinity: {
        ...pinned('n2').nodeAffinity,
        preferredDuringSchedulingIgnoredDuringExecution: preferred,
      },
      podAntiAffinity: {},
    });
    // The template is not changed in place.
    expect(
      affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0],
    ).toHaveProperty('matchExpressions');
  });

  it('GetTargetNodeName: spec.nodeName, else the pinned name, else none', () => {
    expect(targetNodeName(pod('bound'))).toBe('bound');
    const unbound = pod(undefined);
    expect(targetNodeName(unbound)).toBeUndefined();
    expect(targetNodeName({ ...unbound, spec: { affinity: pinned('n3') } })).toBe('n3');
  });

  it('CreatePodTemplate labels the hash and template generation and adds the tolerations', () => {
    const t = createPodTemplate({ metadata: { labels: { app: 'a' } }, spec: { containers: [] } }, 3, 'h1');
    expect(t.metadata.labels).toEqual({
      app: 'a',
      'pod-template-generation': '3',
      'controller-revision-hash': 'h1',
    });
    expect(t.spec.tolerations).toHaveLength(6);
    expect(createPodTemplate(undefined, undefined, 'h').metadata.labels).toEqual({
      'controller-revision-hash': 'h',
    });
  });

  it('IsPodUpdated: by hash, or by template generation', () => {
    expect(isPodUpdated(pod('n', { hash: 'h' }), 'h', undefined)).toBe(true);
    expect(isPodUpdated(pod('n', { hash: 'old' }), 'h', undefined)).toBe(false);
    const p = pod('n', { hash: 'old' });
    p.metadata.labels = { ...p.metadata.labels, 'pod-template-generation': '2' };
    expect(isPodUpdated(p, 'h', 2)).toBe(true);
  });

  it('podByCreationTimestampAndPhase: scheduled first, then oldest, then name', () => {
    const a = pod(undefined, { created: '2024-01-01T00:00:00Z', name: 'a' });
    const b = pod('n', { created: '2024-01-01T00:00:09Z', name: 'b' });
    const c = pod('n', { created: '2024-01-01T00:00:05Z', name: 'c' });
    const d = pod('n', { created: '2024-01-01T00:00:05Z', name: 'd' });
    expect([a, b, d, c].sort(byCreationTimestampAndPhase).map((p) => p.metadata.name)).toEqual([
      'c',
      'd',
      'b',
      'a',
    ]);
  });
});
