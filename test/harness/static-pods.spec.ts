import { describe, expect, it } from '@jest/globals';

import { runningPodStatus, setPodStatus, staticPod } from './static-pods.js';

/** An `ok` that records each request and answers with `stored` for a GET and with what was sent otherwise. */
function fakeCluster(stored: Record<string, unknown>) {
  const calls: { method: string; path: string; body?: unknown }[] = [];
  const ok = <T>(method: string, path: string, body?: unknown): Promise<T> => {
    calls.push({ method, path, body });
    return Promise.resolve((method === 'GET' ? stored : body) as T);
  };
  return { calls, cluster: { ok } };
}

describe('static pods', () => {
  it('a running status: phase, both IP fields and the Ready condition at the given time', () => {
    const at = new Date('2026-03-04T05:06:07.000Z');
    expect(runningPodStatus('10.0.0.7', true, at)).toEqual({
      phase: 'Running',
      podIP: '10.0.0.7',
      podIPs: [{ ip: '10.0.0.7' }],
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-03-04T05:06:07.000Z' }],
    });
    expect(runningPodStatus('10.0.0.7', false, at).conditions[0].status).toBe('False');
  });

  it('setPodStatus puts the stored object back with only its status replaced', async () => {
    const stored = { metadata: { name: 'a', resourceVersion: '9' }, spec: { nodeName: 'n' }, status: {} };
    const { calls, cluster } = fakeCluster(stored);
    const pod = await setPodStatus(cluster, 'ns1', 'a', '10.1.0.1', false);
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'GET /api/v1/namespaces/ns1/pods/a',
      'PUT /api/v1/namespaces/ns1/pods/a/status',
    ]);
    expect(pod).toMatchObject({
      metadata: { name: 'a', resourceVersion: '9' },
      spec: { nodeName: 'n' },
      status: { podIP: '10.1.0.1', conditions: [{ type: 'Ready', status: 'False' }] },
    });
  });

  it('staticPod binds one busybox container with the ports to the node, the spec merged over it', async () => {
    const { calls, cluster } = fakeCluster({ metadata: { name: 'db-0' } });
    await staticPod(cluster, 'ns1', {
      name: 'db-0',
      node: 'static-node',
      ip: '10.2.0.1',
      ready: true,
      labels: { app: 'db' },
      ports: [{ name: 'pg', containerPort: 5432 }],
      spec: { hostname: 'db-0' },
    });
    expect(calls[0]).toEqual({
      method: 'POST',
      path: '/api/v1/namespaces/ns1/pods',
      body: {
        metadata: { name: 'db-0', labels: { app: 'db' } },
        spec: {
          nodeName: 'static-node',
          containers: [{ name: 'c', image: 'busybox:1', ports: [{ name: 'pg', containerPort: 5432 }] }],
          hostname: 'db-0',
        },
      },
    });
    expect(calls.slice(1).map((c) => c.method)).toEqual(['GET', 'PUT']);
  });
});
