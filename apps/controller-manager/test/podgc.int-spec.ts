import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { waitFor } from '@app/dev-servers';
import { type ApiCluster, type ApiStream, startApiCluster } from '@app/testing/api-cluster.js';

import { ClusterConnections } from '../../api-server/src/cluster-connections.js';
import { type RunningControllerManager, startControllerManager } from '../src/run-controller-manager.js';

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}
interface Pod {
  metadata: {
    name: string;
    resourceVersion: string;
    creationTimestamp: string;
    deletionTimestamp?: string;
    finalizers?: string[];
  };
  spec: { nodeName?: string };
  status?: { phase?: string; reason?: string; conditions?: Condition[] };
}
interface WatchEvent {
  type: string;
  object: Pod;
}

const THRESHOLD = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('PodGC through the real API server, log and bus', () => {
  let cluster: ApiCluster;
  let cm: RunningControllerManager | undefined;
  const streams: ApiStream[] = [];
  let ns = '';

  const podsPath = (name = '') => `/api/v1/namespaces/${ns}/pods${name ? `/${name}` : ''}`;
  const fresh = async (name: string) => {
    ns = name;
    await cluster.ok('POST', '/api/v1/namespaces', { metadata: { name } });
  };
  const createPod = (name: string, extra: { nodeName?: string; finalizers?: string[] } = {}) =>
    cluster.ok<Pod>('POST', podsPath(), {
      metadata: { name, ...(extra.finalizers ? { finalizers: extra.finalizers } : {}) },
      spec: { containers: [{ name: 'c', image: 'busybox' }], nodeName: extra.nodeName },
    });
  const setStatus = async (name: string, status: Pod['status']) => {
    const pod = await cluster.ok<Pod>('GET', podsPath(name));
    return cluster.ok<Pod>('PUT', podsPath(`${name}/status`), {
      ...pod,
      status: { ...pod.status, ...status },
    });
  };
  const createNode = async (name: string, ready: 'True' | 'False', taints: unknown[] = []) => {
    const node = await cluster.ok<Pod>('POST', '/api/v1/nodes', { metadata: { name }, spec: { taints } });
    await cluster.ok('PUT', `/api/v1/nodes/${name}/status`, {
      ...node,
      status: { conditions: [{ type: 'Ready', status: ready, reason: 'Test' }] },
    });
  };
  const names = async () =>
    (await cluster.ok<{ items: Pod[] }>('GET', podsPath())).items.map((p) => p.metadata.name).sort();
  const gone = (name: string) =>
    waitFor(`pod ${ns}/${name} deleted`, async () =>
      (await cluster.api('GET', podsPath(name))).status === 404 ? true : undefined,
    );
  /** The events of a watch on the namespace's pods, opened now. */
  const watchPods = async () => {
    const s = await cluster.stream(`${podsPath()}?watch=1`);
    streams.push(s);
    return () => s.lines.filter((l) => l.trim()).map((l) => JSON.parse(l) as WatchEvent);
  };

  beforeAll(async () => {
    cluster = await startApiCluster();
    cm = await startControllerManager({
      connection: cluster.connection,
      natsUrl: cluster.natsUrl,
      leaderElect: false,
      controllers: ['pod-garbage-collector'],
      terminatedPodGcThreshold: THRESHOLD,
      podGcPeriodMs: 200,
      podGcQuarantineMs: 500,
    });
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await Promise.allSettled([cm?.close()]);
    await cluster?.close();
  });

  it('deletes the terminated pods over the threshold, evicted first then oldest, and leaves running pods', async () => {
    await fresh('threshold');
    await createPod('running');
    // Names run against creation order, so only creationTimestamp (whole seconds) can order them.
    const byAge = ['e-oldest', 'd', 'c', 'b', 'a-evicted-newest'];
    for (const name of byAge) {
      await createPod(name);
      await sleep(1100);
    }
    for (const name of byAge)
      await setStatus(
        name,
        name.includes('evicted') ? { phase: 'Failed', reason: 'Evicted' } : { phase: 'Succeeded' },
      );
    await waitFor(`${THRESHOLD} terminated pods left`, async () =>
      (await names()).length === THRESHOLD + 1 ? true : undefined,
    );
    expect(await names()).toEqual(['b', 'c', 'd', 'running']);

    // The force-deletion is PodGC's, caused by the terminated version of the pod.
    const store = cluster.server.app.get(ClusterConnections).store;
    const history = await store.history({ group: '', resource: 'pods', namespace: ns, name: 'e-oldest' });
    const last = history[history.length - 1];
    expect(last.event.verb).toBe('delete');
    expect(last.event.cause).toBe(history[history.length - 2].event.seq);
  });

  it('marks a pod bound to a deleted node Failed with DisruptionTarget, then force-deletes it', async () => {
    await fresh('orphaned');
    await createNode('n-gone', 'True');
    await createNode('n-here', 'True');
    await createPod('orphan', { nodeName: 'n-gone' });
    await createPod('kept', { nodeName: 'n-here' });
    await setStatus('orphan', { phase: 'Running' });
    await setStatus('kept', { phase: 'Running' });
    const seen = await watchPods();
    await cluster.ok('DELETE', '/api/v1/nodes/n-gone');
    await gone('orphan');
    const events = await waitFor('the DELETED event of orphan', () => {
      const e = seen().filter((w) => w.object.metadata.name === 'orphan');
      return e.some((w) => w.type === 'DELETED') ? e : undefined;
    });
    const marked = events.find((w) => w.type === 'MODIFIED' && w.object.status?.phase === 'Failed');
    expect(marked?.object.status?.conditions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          type: 'DisruptionTarget',
          status: 'True',
          reason: 'DeletionByPodGC',
          message: 'PodGC: node no longer exists',
        }),
      ]),
    );
    expect(await names()).toEqual(['kept']);
  });

  it('force-deletes a terminating pod on a NotReady node tainted out-of-service, not one on a Ready node', async () => {
    await fresh('outofservice');
    await createNode('n-oos', 'False', [{ key: 'node.kubernetes.io/out-of-service', effect: 'NoExecute' }]);
    await createNode('n-fine', 'True', [{ key: 'node.kubernetes.io/out-of-service', effect: 'NoExecute' }]);
    for (const [name, node] of [
      ['stuck', 'n-oos'],
      ['graceful', 'n-fine'],
    ]) {
      await createPod(name, { nodeName: node });
      await setStatus(name, { phase: 'Running' });
      await cluster.ok('DELETE', podsPath(name), { gracePeriodSeconds: 300 });
    }
    await gone('stuck');
    // The pod on the Ready node keeps its grace period: its kubelet will end it.
    const graceful = await cluster.ok<Pod>('GET', podsPath('graceful'));
    expect(graceful.metadata.deletionTimestamp).toBeDefined();
    expect(graceful.status?.phase).toBe('Running');
  });

  it('fails and deletes a terminating pod never scheduled, which its finalizer holder can then let go', async () => {
    await fresh('unscheduled');
    await createPod('held', { finalizers: ['example.com/hold'] });
    await cluster.ok('DELETE', podsPath('held'));
    const failed = await waitFor('held marked Failed by PodGC', async () => {
      const p = await cluster.ok<Pod>('GET', podsPath('held'));
      return p.status?.phase === 'Failed' ? p : undefined;
    });
    expect(failed.metadata.deletionTimestamp).toBeDefined();
    // As the Job controller does on seeing its pod fail: it drops its finalizer, and the pod goes.
    await cluster.mergePatch(podsPath('held'), { metadata: { finalizers: null } });
    await gone('held');
  });
});
