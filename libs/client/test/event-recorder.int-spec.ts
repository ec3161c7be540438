import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { type StoredObject } from '@app/event-store';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';

import { ApiClient } from '../src/api/api-client.js';
import { EventRecorder } from '../src/events/event-recorder.js';

interface KubeEvent {
  metadata: { name: string };
  involvedObject: { kind: string; name: string; uid: string; fieldPath?: string };
  reason: string;
  message: string;
  type: string;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  source: { component: string; host?: string };
  reportingComponent: string;
  reportingInstance: string;
}

/**
 * The components' event recorder against a real API server: core/v1 Events as client-go's
 * recorder writes them, a repeat of the same event counted on the one already written, and
 * what kubectl shows of them.
 */
describe('EventRecorder', () => {
  let cluster: ApiCluster;
  let api: ApiClient;
  let pod: StoredObject;
  const ns = 'recorded';

  beforeAll(async () => {
    cluster = await startApiCluster();
    api = new ApiClient(cluster.connection, { userAgent: 'recorder-test' });
    await cluster.ok('POST', '/api/v1/namespaces', { metadata: { name: ns } });
    pod = await cluster.ok<StoredObject>('POST', `/api/v1/namespaces/${ns}/pods`, {
      metadata: { name: 'web' },
      spec: { containers: [{ name: 'c', image: 'busybox' }] },
    });
  });
  afterAll(async () => {
    api?.close();
    await cluster?.close();
  });

  const events = async () =>
    (await cluster.ok<{ items: KubeEvent[] }>('GET', `/api/v1/namespaces/${ns}/events`)).items;

  it('writes an Event about the object, and counts a repeat on it instead of adding another', async () => {
    const recorder = new EventRecorder(api, { component: 'kubelet', instance: 'node-1', host: 'node-1' });
    const pulled = {
      object: pod,
      type: 'Normal' as const,
      reason: 'Pulled',
      message: 'Container image "busybox" already present on machine',
      fieldPath: 'spec.containers{c}',
    };
    recorder.record(pulled);
    await recorder.flush();
    recorder.record(pulled);
    recorder.record({ ...pulled, type: 'Warning', reason: 'BackOff', message: 'Back-off restarting' });
    await recorder.flush();

    const written = await events();
    expect(written).toHaveLength(2);
    const repeated = written.find((e) => e.reason === 'Pulled');
    expect(repeated).toMatchObject({
      involvedObject: { kind: 'Pod', name: 'web', uid: pod.metadata.uid, fieldPath: 'spec.containers{c}' },
      type: 'Normal',
      count: 2,
      source: { component: 'kubelet', host: 'node-1' },
      reportingComponent: 'kubelet',
      reportingInstance: 'node-1',
    });
    expect(repeated?.metadata.name.startsWith('web.')).toBe(true);
    expect(Date.parse(repeated?.lastTimestamp ?? '')).toBeGreaterThanOrEqual(
      Date.parse(repeated?.firstTimestamp ?? ''),
    );
    expect(written.find((e) => e.reason === 'BackOff')).toMatchObject({ type: 'Warning', count: 1 });
    expect(recorder.droppedCount).toBe(0);

    const describe = await cluster.kubectl(33, ['-n', ns, 'describe', 'pod', 'web']);
    expect(describe.stdout).toMatch(/Normal\s+Pulled\s+\S+ \(x2 over \S+\)\s+kubelet\s+Container image/);
    expect(describe.stdout).toMatch(/Warning\s+BackOff\s+\S+\s+kubelet\s+Back-off restarting/);
  });
});
