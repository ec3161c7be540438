import { type Pod } from '../replicaset/pod-types.js';
import { type DaemonSet, DAEMONSET_HASH_LABEL, type Node } from './daemonset-types.js';

/** Fixtures for the DaemonSet controller's unit tests. */
export function ds(
  spec: NonNullable<DaemonSet['spec']> = {},
  podSpec: Record<string, unknown> = {},
): DaemonSet {
  return {
    metadata: { name: 'ds', namespace: 'ns', uid: 'ds-uid', generation: 1 },
    spec: {
      selector: { matchLabels: { app: 'a' } },
      template: {
        metadata: { labels: { app: 'a' } },
        spec: { containers: [{ name: 'c', image: 'x' }], ...podSpec },
      },
      ...spec,
    },
  };
}

export function node(name: string, labels: Record<string, string> = {}, taints: Node['spec'] = {}): Node {
  return { metadata: { name, labels }, spec: taints };
}

let serial = 0;

export function pod(
  nodeName: string | undefined,
  o: {
    hash?: string;
    ready?: boolean;
    phase?: string;
    created?: string;
    deleting?: boolean;
    name?: string;
  } = {},
): Pod {
  serial++;
  return {
    metadata: {
      name: o.name ?? `p${serial}`,
      namespace: 'ns',
      uid: `uid-${serial}`,
      labels: { app: 'a', ...(o.hash ? { [DAEMONSET_HASH_LABEL]: o.hash } : {}) },
      creationTimestamp: o.created ?? `2024-01-01T00:00:${String(serial % 60).padStart(2, '0')}Z`,
      ...(o.deleting ? { deletionTimestamp: '2024-01-02T00:00:00Z' } : {}),
    },
    spec: { nodeName },
    status: {
      phase: o.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
    },
  };
}
