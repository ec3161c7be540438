import { type ControllerRevision } from '../history/controller-revision.js';
import { type StatefulPod } from './identity.js';
import { newRevision } from './revisions.js';
import { type StatefulSet } from './statefulset-types.js';

/** upstream's newStatefulSet (stateful_set_utils_test.go): a set with one claim template and one volume. */
export function newStatefulSet(
  replicas: number,
  spec: Partial<NonNullable<StatefulSet['spec']>> = {},
  name = 'foo',
): StatefulSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: 'default', uid: 'set-uid', generation: 1, resourceVersion: '7' },
    spec: {
      replicas,
      serviceName: 'governingsvc',
      selector: { matchLabels: { foo: 'bar' } },
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      revisionHistoryLimit: 2,
      template: {
        metadata: { labels: { foo: 'bar' } },
        spec: {
          containers: [{ name: 'nginx', image: 'nginx' }],
          volumes: [{ name: 'home', hostPath: { path: '/tmp/home' } }],
        },
      },
      volumeClaimTemplates: [
        { metadata: { name: 'datadir' }, spec: { resources: { requests: { storage: '1Gi' } } } },
      ],
      ...spec,
    },
  };
}

/** The set's revision `n`, as the controller would have made it. */
export const revisionOf = (set: StatefulSet, n = 1): ControllerRevision => ({
  ...newRevision(set, n, 0),
  metadata: { ...newRevision(set, n, 0).metadata, creationTimestamp: `2026-01-01T00:00:0${n}Z` },
});

/** A created pod in `phase`, Ready or not, as the API would hold it. */
export function withStatus(
  pod: StatefulPod,
  phase: string,
  ready: boolean,
  uid = `${pod.metadata.name}-uid`,
): StatefulPod {
  return {
    ...pod,
    metadata: { ...pod.metadata, uid },
    status: {
      phase,
      conditions: [
        { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: '2026-01-01T00:00:00Z' },
      ],
    },
  };
}

export const runningAndReady = (pod: StatefulPod): StatefulPod => withStatus(pod, 'Running', true);
