import { describe, expect, it } from '@jest/globals';

import { printerFor } from './printers.js';

const NOW = Date.parse('2026-01-01T01:00:00Z');
const meta = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  creationTimestamp: '2026-01-01T00:00:00Z',
  ...extra,
});

function row(group: string, plural: string, obj: Record<string, unknown>): Record<string, unknown> {
  const p = printerFor(group, plural);
  const cells = p.cells(obj as never, NOW);
  return Object.fromEntries(p.columns.map((c, i) => [c.name, cells[i]]));
}

describe('printers (upstream columns and cells)', () => {
  it('pods: ready count, the most telling status, restarts, wide columns', () => {
    const running = {
      metadata: meta('web'),
      spec: { nodeName: 'n1', containers: [{ name: 'a' }, { name: 'b' }] },
      status: {
        phase: 'Running',
        podIP: '10.1.0.5',
        containerStatuses: [
          { name: 'a', ready: true, restartCount: 1, state: { running: {} } },
          { name: 'b', ready: false, restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } } },
        ],
      },
    };
    expect(row('', 'pods', running)).toMatchObject({
      Ready: '1/2',
      Status: 'CrashLoopBackOff',
      Restarts: '3',
      Age: '60m',
      IP: '10.1.0.5',
      Node: 'n1',
    });
    const initializing = {
      metadata: meta('init'),
      spec: { initContainers: [{ name: 'i' }], containers: [{ name: 'a' }] },
      status: {
        phase: 'Pending',
        initContainerStatuses: [{ name: 'i', restartCount: 0, state: { running: {} } }],
      },
    };
    expect(row('', 'pods', initializing)).toMatchObject({ Status: 'Init:0/1' });
    // The first init container not done names the status, not the last one.
    const secondWaits = {
      metadata: meta('init2'),
      spec: { initContainers: [{ name: 'i' }, { name: 'j' }], containers: [{ name: 'a' }] },
      status: {
        phase: 'Pending',
        initContainerStatuses: [
          { name: 'i', restartCount: 1, state: { running: {} } },
          { name: 'j', restartCount: 5, state: { waiting: { reason: 'PodInitializing' } } },
        ],
      },
    };
    expect(row('', 'pods', secondWaits)).toMatchObject({ Status: 'Init:0/2', Restarts: '1' });
    const terminating = {
      metadata: meta('bye', { deletionTimestamp: '2026-01-01T00:59:00Z' }),
      spec: { containers: [{}] },
      status: { phase: 'Running' },
    };
    expect(row('', 'pods', terminating)).toMatchObject({ Status: 'Terminating' });
  });

  it('services: ports with node ports, external IPs by type', () => {
    const svc = {
      metadata: meta('s'),
      spec: {
        type: 'NodePort',
        clusterIP: '10.96.0.9',
        ports: [
          { port: 80, nodePort: 30080, protocol: 'TCP' },
          { port: 53, protocol: 'UDP' },
        ],
      },
    };
    expect(row('', 'services', svc)).toMatchObject({
      Type: 'NodePort',
      'Cluster-IP': '10.96.0.9',
      'External-IP': '<none>',
      'Port(s)': '80:30080/TCP,53/UDP',
    });
    expect(
      row('', 'services', { metadata: meta('lb'), spec: { type: 'LoadBalancer', ports: [{ port: 443 }] } }),
    ).toMatchObject({ 'External-IP': '<pending>' });
  });

  it('nodes: readiness, scheduling, roles', () => {
    const node = {
      metadata: meta('n1', { labels: { 'node-role.kubernetes.io/control-plane': '' } }),
      spec: { unschedulable: true },
      status: {
        conditions: [{ type: 'Ready', status: 'True' }],
        nodeInfo: { kubeletVersion: 'v1.33.0-wake' },
      },
    };
    expect(row('', 'nodes', node)).toMatchObject({
      Status: 'Ready,SchedulingDisabled',
      Roles: 'control-plane',
      Version: 'v1.33.0-wake',
    });
  });

  it('cluster kinds: the default StorageClass, bindings, and Name/Created At where upstream has no more', () => {
    expect(
      row('storage.k8s.io', 'storageclasses', {
        metadata: meta('fast', { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }),
        provisioner: 'x',
      }),
    ).toMatchObject({ Name: 'fast (default)', ReclaimPolicy: 'Delete', VolumeBindingMode: 'Immediate' });
    const rb = {
      metadata: meta('rb'),
      roleRef: { kind: 'ClusterRole', name: 'view' },
      subjects: [
        { kind: 'User', name: 'ann' },
        { kind: 'ServiceAccount', name: 'sa', namespace: 'ns' },
      ],
    };
    expect(row('rbac.authorization.k8s.io', 'rolebindings', rb)).toMatchObject({
      Role: 'ClusterRole/view',
      Users: 'ann',
      ServiceAccounts: 'ns/sa',
    });
    expect(Object.keys(row('rbac.authorization.k8s.io', 'roles', { metadata: meta('r') }))).toEqual([
      'Name',
      'Created At',
    ]);
    expect(Object.keys(row('example.com', 'widgets', { metadata: meta('w') }))).toEqual([
      'Name',
      'Created At',
    ]);
  });
});
