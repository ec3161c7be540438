import { describe, expect, it } from '@jest/globals';

import { podInfo } from './pod-info.js';
import { makePod } from './test-fixtures.js';
import { DEFAULT_MEMORY_REQUEST, DEFAULT_MILLI_CPU_REQUEST } from './types.js';

const Mi = 1024 * 1024;
const c = (name: string, requests: Record<string, string>, extra: Record<string, unknown> = {}) => ({
  name,
  resources: { requests },
  ...extra,
});

describe('podInfo: effective requests (upstream computePodResourceRequest)', () => {
  it('sums the app containers and counts one pod', () => {
    const p = podInfo(
      makePod('p', {
        containers: [c('a', { cpu: '100m', memory: '1Gi' }), c('b', { cpu: '1', memory: '512Mi' })],
      }),
    );
    expect(p.requests).toMatchObject({ milliCPU: 1100, memory: 1536 * Mi, ephemeralStorage: 0, pods: 1 });
  });

  it('takes an ordinary init container only when it is larger than the app containers', () => {
    const p = podInfo(
      makePod('p', {
        containers: [c('a', { cpu: '1', memory: '1Gi' })],
        initContainers: [c('i1', { cpu: '2', memory: '100Mi' }), c('i2', { cpu: '500m', memory: '2Gi' })],
      }),
    );
    // max(Σ app, each init) per resource: cpu from i1, memory from i2.
    expect(p.requests.milliCPU).toBe(2000);
    expect(p.requests.memory).toBe(2048 * Mi);
  });

  it('adds restartable (sidecar) init containers to the app containers and to later init containers', () => {
    const p = podInfo(
      makePod('p', {
        containers: [c('a', { cpu: '1' })],
        initContainers: [
          c('sidecar', { cpu: '500m' }, { restartPolicy: 'Always' }),
          c('migrate', { cpu: '2' }), // runs beside the sidecar: 2.5 CPU at that moment
        ],
      }),
    );
    expect(p.requests.milliCPU).toBe(2500);

    const small = podInfo(
      makePod('q', {
        containers: [c('a', { cpu: '1' })],
        initContainers: [
          c('init', { cpu: '200m' }),
          c('sidecar', { cpu: '300m' }, { restartPolicy: 'Always' }),
        ],
      }),
    );
    // The ordinary init container ran before the sidecar started: 1 + 0.3 for the steady state.
    expect(small.requests.milliCPU).toBe(1300);
  });

  it('adds spec.overhead after the maximum, and extended resources as scalars', () => {
    const p = podInfo(
      makePod('p', {
        containers: [c('a', { cpu: '1', memory: '1Gi', 'example.com/gpu': '2', 'ephemeral-storage': '1Gi' })],
        initContainers: [c('i', { cpu: '3' })],
        overhead: { cpu: '250m', memory: '120Mi' },
      }),
    );
    expect(p.requests.milliCPU).toBe(3250);
    expect(p.requests.memory).toBe(1024 * Mi + 120 * Mi);
    expect(p.requests.ephemeralStorage).toBe(1024 * Mi);
    expect(p.requests.scalar.get('example.com/gpu')).toBe(2);
  });

  it('uses pod-level requests for cpu and memory when the pod sets them', () => {
    const p = podInfo(
      makePod('p', {
        containers: [c('a', { cpu: '1', memory: '1Gi' })],
        resources: { requests: { cpu: '3' } },
      }),
    );
    expect(p.requests.milliCPU).toBe(3000);
    expect(p.requests.memory).toBe(1024 * Mi);
  });

  it('counts unset cpu/memory as 100m/200Mi per container for scoring, but not explicit zeros', () => {
    const p = podInfo(
      makePod('p', {
        containers: [c('a', {}), c('b', { cpu: '0', memory: '0' }), c('c', { cpu: '1' })],
        overhead: { cpu: '10m' },
      }),
    );
    expect(p.requests.milliCPU).toBe(1010);
    expect(p.requests.memory).toBe(0);
    expect(p.nonZeroRequests).toEqual({
      milliCPU: DEFAULT_MILLI_CPU_REQUEST + 0 + 1000 + 10,
      memory: 2 * DEFAULT_MEMORY_REQUEST,
    });
  });

  it('collects host ports of app containers and sidecars with TCP and 0.0.0.0 defaults', () => {
    const p = podInfo(
      makePod('p', {
        containers: [
          {
            name: 'a',
            ports: [
              { containerPort: 80 },
              { containerPort: 80, hostPort: 8080 },
              { hostPort: 53, protocol: 'UDP', hostIP: '10.0.0.1' },
            ],
          },
        ],
        initContainers: [
          { name: 'init', ports: [{ hostPort: 9000 }] },
          { name: 'sidecar', restartPolicy: 'Always', ports: [{ hostPort: 9100 }] },
        ],
      }),
    );
    expect(p.hostPorts).toEqual([
      { protocol: 'TCP', hostIP: '0.0.0.0', port: 8080 },
      { protocol: 'UDP', hostIP: '10.0.0.1', port: 53 },
      { protocol: 'TCP', hostIP: '0.0.0.0', port: 9100 },
    ]);
  });

  it('reads the key, the priority (default 0) and the pod (anti-)affinity terms', () => {
    expect(podInfo(makePod('p', { namespace: 'ns1' })).key).toBe('ns1/p');
    expect(podInfo(makePod('p')).priority).toBe(0);
    expect(podInfo(makePod('p', { priority: 1000 })).priority).toBe(1000);

    const p = podInfo(
      makePod('p', {
        namespace: 'ns1',
        labels: { app: 'web', tier: 'a' },
        affinity: {
          podAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              {
                labelSelector: { matchLabels: { app: 'db' } },
                topologyKey: 'zone',
                matchLabelKeys: ['tier'],
              },
            ],
          },
          podAntiAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              { weight: 0, podAffinityTerm: { labelSelector: {}, topologyKey: 'x' } },
              {
                weight: 5,
                podAffinityTerm: { labelSelector: {}, namespaces: ['a', 'b'], topologyKey: 'host' },
              },
            ],
          },
        },
      }),
    );
    expect(p.requiredAffinityTerms).toHaveLength(1);
    const [term] = p.requiredAffinityTerms;
    expect([...term.namespaces]).toEqual(['ns1']); // no namespaces and no selector: the pod's own
    expect(term.topologyKey).toBe('zone');
    expect(term.selector.requirements.map((r) => `${r.key} ${r.operator} ${r.values.join(',')}`)).toEqual([
      'app Equals db',
      'tier In a',
    ]);
    expect(p.requiredAntiAffinityTerms).toEqual([]);
    expect(p.preferredAntiAffinityTerms).toHaveLength(1); // weight 0 dropped
    expect(p.preferredAntiAffinityTerms[0].weight).toBe(5);
    expect([...p.preferredAntiAffinityTerms[0].namespaces]).toEqual(['a', 'b']);
  });
});
