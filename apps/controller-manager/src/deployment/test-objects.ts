import { type Deployment, type IntOrPercent, type ReplicaSet } from './deployment-types.js';

/** Builders for the unit tests, in the manner of upstream's newDeployment / newRS helpers. */
export function deployment(
  replicas: number,
  o: {
    maxSurge?: IntOrPercent;
    maxUnavailable?: IntOrPercent;
    recreate?: boolean;
    generation?: number;
    progressDeadlineSeconds?: number;
    revisionHistoryLimit?: number;
    status?: Deployment['status'];
  } = {},
): Deployment {
  return {
    metadata: { name: 'foo', namespace: 'ns', uid: 'd-uid', generation: o.generation ?? 1 },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'foo' } },
      template: { metadata: { labels: { app: 'foo' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
      strategy: o.recreate
        ? { type: 'Recreate' }
        : {
            type: 'RollingUpdate',
            rollingUpdate: { maxSurge: o.maxSurge ?? 0, maxUnavailable: o.maxUnavailable ?? 0 },
          },
      progressDeadlineSeconds: o.progressDeadlineSeconds,
      revisionHistoryLimit: o.revisionHistoryLimit,
    },
    status: o.status,
  };
}

let created = 0;

/** A ReplicaSet created after every one built before it (unless `at` says when). */
export function replicaSet(
  name: string,
  replicas: number,
  o: {
    available?: number;
    actual?: number;
    annotations?: Record<string, string>;
    at?: number;
    generation?: number;
    observed?: number;
  } = {},
): ReplicaSet {
  const at = o.at ?? ++created;
  return {
    metadata: {
      name,
      namespace: 'ns',
      uid: `${name}-uid`,
      creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, at)).toISOString(),
      annotations: o.annotations,
      generation: o.generation ?? 1,
    },
    spec: { replicas },
    status: {
      replicas: o.actual ?? replicas,
      availableReplicas: o.available ?? replicas,
      readyReplicas: o.available ?? replicas,
      observedGeneration: o.observed ?? 1,
    },
  };
}
