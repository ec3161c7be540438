import { type Pod } from '../replicaset/pod-types.js';
import { type Service } from './service-types.js';

/** A pod of `app: foo` on node-1 with one IP, ready unless told otherwise. */
export function testPod(
  name: string,
  ip: string,
  o: {
    ready?: boolean;
    labels?: Record<string, string>;
    deleting?: boolean;
    phase?: string;
    spec?: Pod['spec'];
  } = {},
): Pod {
  return {
    metadata: {
      name,
      namespace: 'ns',
      uid: `uid-${name}`,
      resourceVersion: '1',
      labels: o.labels ?? { app: 'foo' },
      ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    spec: {
      nodeName: 'node-1',
      containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }],
      ...o.spec,
    },
    status: {
      phase: o.phase ?? 'Running',
      podIP: ip,
      podIPs: [{ ip }],
      conditions: [
        {
          type: 'Ready',
          status: o.ready === false ? 'False' : 'True',
          lastTransitionTime: '2026-01-01T00:00:00Z',
        },
      ],
    },
  };
}

export function testService(
  name = 'foo',
  spec: Service['spec'] = {},
  labels?: Record<string, string>,
): Service {
  return {
    metadata: {
      name,
      namespace: 'ns',
      uid: `uid-svc-${name}`,
      resourceVersion: '5',
      creationTimestamp: '2026-01-01T00:00:00Z',
      labels,
    },
    spec: {
      selector: { app: 'foo' },
      clusterIP: '10.96.0.10',
      ipFamilies: ['IPv4'],
      ports: [{ name: '', port: 80, targetPort: 8080, protocol: 'TCP' }],
      ...spec,
    },
  };
}
