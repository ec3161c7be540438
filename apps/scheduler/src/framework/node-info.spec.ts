import { describe, expect, it } from '@jest/globals';

import { MutableNodeInfo } from './node-info.js';
import { podInfo } from './pod-info.js';
import { NodeSnapshot } from './snapshot.js';
import { makeNode, makePod } from './test-fixtures.js';

const Mi = 1024 * 1024;

const withAntiAffinity = (name: string) =>
  makePod(name, {
    labels: { app: 'db' },
    affinity: {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          { labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'h' },
        ],
      },
    },
  });

describe('MutableNodeInfo', () => {
  it('reads allocatable, falling back to capacity when the node reports none', () => {
    const n = new MutableNodeInfo(
      makeNode('n', { allocatable: { cpu: '3500m', memory: '1Gi', pods: '10', 'example.com/gpu': '4' } }),
    );
    expect(n.allocatable).toMatchObject({ milliCPU: 3500, memory: 1024 * Mi, pods: 10 });
    expect(n.allocatable.scalar.get('example.com/gpu')).toBe(4);
    const fromCapacity = new MutableNodeInfo(
      makeNode('m', { capacity: { cpu: '2', memory: '2Gi', pods: '5' } }),
    );
    expect(fromCapacity.allocatable).toMatchObject({ milliCPU: 2000, memory: 2048 * Mi, pods: 5 });
  });

  it('reads labels, taints, unschedulable and image sizes by every name', () => {
    const n = new MutableNodeInfo(
      makeNode('n', {
        labels: { zone: 'a' },
        taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }],
        unschedulable: true,
        images: [{ names: ['nginx:1.25', 'docker.io/library/nginx@sha256:abc'], sizeBytes: 70 * Mi }],
      }),
    );
    expect(n.labels).toEqual({ zone: 'a' });
    expect(n.taints).toEqual([{ key: 'k', value: 'v', effect: 'NoSchedule' }]);
    expect(n.unschedulable).toBe(true);
    expect(n.images.get('nginx:1.25')).toBe(70 * Mi);
    expect(n.images.get('docker.io/library/nginx@sha256:abc')).toBe(70 * Mi);
  });

  it('adds and removes pods exactly: requests, non-zero requests, ports, affinity lists', () => {
    const n = new MutableNodeInfo(makeNode('n'));
    const a = podInfo(
      makePod('a', {
        containers: [
          {
            name: 'c',
            resources: { requests: { cpu: '500m', memory: '1Gi', 'example.com/gpu': '1' } },
            ports: [{ hostPort: 80 }],
          },
        ],
      }),
    );
    const b = podInfo(withAntiAffinity('b'));
    n.addPod(a);
    n.addPod(b);
    expect(n.pods.map((p) => p.key)).toEqual(['default/a', 'default/b']);
    expect(n.requested).toMatchObject({ milliCPU: 500, memory: 1024 * Mi, pods: 2 });
    expect(n.requested.scalar.get('example.com/gpu')).toBe(1);
    // b requests nothing: scoring counts it as 100m / 200Mi.
    expect(n.nonZeroRequested).toEqual({ milliCPU: 600, memory: 1224 * Mi });
    expect(n.usedPorts).toEqual([{ protocol: 'TCP', hostIP: '0.0.0.0', port: 80 }]);
    expect(n.podsWithAffinity.map((p) => p.key)).toEqual(['default/b']);
    expect(n.podsWithRequiredAntiAffinity.map((p) => p.key)).toEqual(['default/b']);

    expect(n.removePod('default/a')).toBe(a);
    expect(n.removePod('default/a')).toBeUndefined();
    expect(n.requested).toMatchObject({ milliCPU: 0, memory: 0, pods: 1 });
    expect(n.requested.scalar.get('example.com/gpu')).toBe(0);
    expect(n.nonZeroRequested).toEqual({ milliCPU: 100, memory: 200 * Mi });
    expect(n.usedPorts).toEqual([]);
    n.removePod('default/b');
    expect(n.pods).toEqual([]);
    expect(n.podsWithAffinity).toEqual([]);
    expect(n.podsWithRequiredAntiAffinity).toEqual([]);
    expect(n.nonZeroRequested).toEqual({ milliCPU: 0, memory: 0 });
  });
});

describe('NodeSnapshot', () => {
  it('finds nodes by name and counts the nodes holding each image', () => {
    const image = (names: string[]) => [{ names, sizeBytes: Mi }];
    const s = new NodeSnapshot([
      makeNode('a', { images: image(['x:1', 'y:1']) }),
      makeNode('b', { images: image(['x:1']) }),
      makeNode('c'),
    ]);
    expect(s.nodes.map((n) => n.name)).toEqual(['a', 'b', 'c']);
    expect(s.get('b')?.name).toBe('b');
    expect(s.get('zz')).toBeUndefined();
    expect(s.imageNodeCount('x:1')).toBe(2);
    expect(s.imageNodeCount('y:1')).toBe(1);
    s.setNode(makeNode('a', { images: image(['z:1']) }));
    expect([s.imageNodeCount('x:1'), s.imageNodeCount('y:1'), s.imageNodeCount('z:1')]).toEqual([1, 0, 1]);
    s.removeNode('b');
    expect(s.imageNodeCount('x:1')).toBe(0);
    expect(s.nodes.map((n) => n.name)).toEqual(['a', 'c']);
  });

  it('keeps a node’s pods across a node update and tracks nodes with affinity pods', () => {
    const s = new NodeSnapshot([makeNode('a'), makeNode('b')]);
    expect(s.addPod('a', podInfo(makePod('p', { requests: { cpu: '1' } })))).toBe(true);
    expect(s.addPod('nope', podInfo(makePod('q')))).toBe(false);
    s.setNode(makeNode('a', { labels: { zone: 'z' } }));
    expect(s.get('a')?.requested.milliCPU).toBe(1000);
    expect(s.get('a')?.labels).toEqual({ zone: 'z' });

    expect(s.nodesWithAffinityPods).toEqual([]);
    s.addPod('b', podInfo(withAntiAffinity('anti')));
    expect(s.nodesWithAffinityPods.map((n) => n.name)).toEqual(['b']);
    expect(s.nodesWithRequiredAntiAffinityPods.map((n) => n.name)).toEqual(['b']);
    expect(s.removePod('b', 'default/anti')?.key).toBe('default/anti');
    expect(s.nodesWithRequiredAntiAffinityPods).toEqual([]);
  });
});
