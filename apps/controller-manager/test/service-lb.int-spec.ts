import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';

import { type LbNode, type LbService } from '../src/service-lb/lb-status.js';
import { type RunningControllerManager, startControllerManager } from '../src/run-controller-manager.js';

/**
 * The LoadBalancer status controller (k3s' servicelb role) through the real API server, log and
 * bus: Nodes the test creates and whose Ready condition and addresses it writes, Services of
 * type LoadBalancer, and the real kubectl 1.33 showing EXTERNAL-IP.
 */
describe('service-lb controller through the real API server', () => {
  let cluster: ApiCluster;
  let cm: RunningControllerManager | undefined;
  const ns = 'lb';

  /** A Node with the addresses and readiness written to its status, as a kubelet would. */
  const node = async (name: string, internal: string, ready: boolean, external?: string) => {
    await cluster.ok('POST', '/api/v1/nodes', { metadata: { name } });
    await setNodeStatus(name, internal, ready, external);
  };
  const setNodeStatus = async (name: string, internal: string, ready: boolean, external?: string) => {
    const cur = await cluster.ok<LbNode>('GET', `/api/v1/nodes/${name}`);
    await cluster.ok('PUT', `/api/v1/nodes/${name}/status`, {
      ...cur,
      status: {
        conditions: [
          { type: 'Ready', status: ready ? 'True' : 'False', lastHeartbeatTime: new Date().toISOString() },
        ],
        addresses: [
          { type: 'InternalIP', address: internal },
          ...(external ? [{ type: 'ExternalIP', address: external }] : []),
          { type: 'Hostname', address: name },
        ],
      },
    });
  };
  const service = (name: string, spec: Record<string, unknown>) =>
    cluster.ok('POST', `/api/v1/namespaces/${ns}/services`, {
      metadata: { name },
      spec: { ports: [{ port: 80, targetPort: 8080 }], selector: { app: name }, ...spec },
    });
  const ingressOf = async (name: string) =>
    (await cluster.ok<LbService>('GET', `/api/v1/namespaces/${ns}/services/${name}`)).status?.loadBalancer
      ?.ingress ?? [];
  const ipsOf = async (name: string) => (await ingressOf(name)).map((i) => i.ip).join(',');
  const waitIps = (name: string, want: string) =>
    waitFor(
      `${name} reports ${want || 'no address'}`,
      async () => ((await ipsOf(name)) === want ? true : undefined),
      {
        timeoutMs: 20_000,
        intervalMs: 100,
      },
    );

  beforeAll(async () => {
    cluster = await startApiCluster();
    const connection = cluster.connection;
    await cluster.ok('POST', '/api/v1/namespaces', { metadata: { name: ns } });
    await node('lb-node-a', '10.200.0.2', true);
    await node('lb-node-b', '10.200.0.1', true, '192.0.2.7');
    await node('lb-node-c', '10.200.0.3', false);
    cm = await startControllerManager({
      connection,
      natsUrl: cluster.natsUrl,
      leaderElect: false,
      controllers: ['service-lb'],
      backoffMs: [50, 1000],
    });
  });
  afterAll(async () => {
    await Promise.allSettled([cm?.close()]);
    await cluster?.close();
  });

  it('a LoadBalancer Service reports each Ready node address (ExternalIP first), sorted, as VIPs; kubectl shows EXTERNAL-IP', async () => {
    await service('web', { type: 'LoadBalancer' });
    await waitIps('web', '10.200.0.2,192.0.2.7');
    expect(await ingressOf('web')).toEqual([
      { ip: '10.200.0.2', ipMode: 'VIP' },
      { ip: '192.0.2.7', ipMode: 'VIP' },
    ]);
    const r = await cluster.kubectl(33, ['-n', ns, 'get', 'svc', 'web', '--no-headers'], {
      timeoutMs: 60_000,
    });
    expect(r.code).toBe(0);
    // NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE
    const cols = r.stdout.trim().split(/\s+/);
    expect(cols[1]).toBe('LoadBalancer');
    expect(cols[3]).toBe('10.200.0.2,192.0.2.7');
    expect(cols[4]).toMatch(/^80:3\d{4}\/TCP$/);
  });

  it('follows nodes turning Ready or not, being cordoned, and coming and going', async () => {
    await service('follow', { type: 'LoadBalancer' });
    await waitIps('follow', '10.200.0.2,192.0.2.7');
    await setNodeStatus('lb-node-c', '10.200.0.3', true);
    await waitIps('follow', '10.200.0.2,10.200.0.3,192.0.2.7');
    await cluster.mergePatch('/api/v1/nodes/lb-node-a', { spec: { unschedulable: true } });
    await waitIps('follow', '10.200.0.3,192.0.2.7');
    await setNodeStatus('lb-node-c', '10.200.0.3', false);
    await waitIps('follow', '192.0.2.7');
    await node('lb-node-d', '10.200.0.4', true);
    await waitIps('follow', '10.200.0.4,192.0.2.7');
    await cluster.ok('DELETE', '/api/v1/nodes/lb-node-d');
    await waitIps('follow', '192.0.2.7');
    // The first Service followed too.
    await waitIps('web', '192.0.2.7');
  });

  it('clears the addresses when the type changes away from LoadBalancer, and leaves other classes and types alone', async () => {
    await service('change', { type: 'LoadBalancer' });
    await waitIps('change', '192.0.2.7');
    await cluster.mergePatch(`/api/v1/namespaces/${ns}/services/change`, { spec: { type: 'NodePort' } });
    await waitIps('change', '');
    await service('classed', { type: 'LoadBalancer', loadBalancerClass: 'example.com/other' });
    await service('plain', { type: 'ClusterIP' });
    // A later Service of ours is handled, so the controller has seen the two before it.
    await service('marker', { type: 'LoadBalancer' });
    await waitIps('marker', '192.0.2.7');
    expect(await ingressOf('classed')).toEqual([]);
    expect(await ingressOf('plain')).toEqual([]);
  });
});
