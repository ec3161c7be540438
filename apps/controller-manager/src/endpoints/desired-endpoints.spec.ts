import { describe, expect, it } from '@jest/globals';

import { desiredSubsets, endpointsToWrite } from './desired-endpoints.js';
import { servicesToUpdateOnPodChange } from './endpoint-pods.js';
import { HEADLESS_LABEL, LAST_CHANGE_TRIGGER_TIME } from './service-types.js';
import { OVER_CAPACITY } from './subsets.js';
import { testPod, testService } from './test-objects.js';
import { formatRfc3339Nano } from './trigger-time-tracker.js';

const target = (name: string) => ({ kind: 'Pod', namespace: 'ns', name, uid: `uid-${name}` });
const address = (ip: string, name: string) => ({ ip, nodeName: 'node-1', targetRef: target(name) });

/** After the cases of pkg/controller/endpoint/endpoints_controller_test.go. */
describe('desiredSubsets (syncService)', () => {
  it('lists ready pods as addresses with the port, by IP (TestSyncEndpointsItems)', () => {
    const svc = testService();
    expect(desiredSubsets(svc, [testPod('a', '1.2.3.5'), testPod('b', '1.2.3.4')])).toEqual([
      {
        addresses: [address('1.2.3.4', 'b'), address('1.2.3.5', 'a')],
        ports: [{ port: 8080, protocol: 'TCP' }],
      },
    ]);
  });

  it('lists not-ready pods as notReadyAddresses (TestSyncEndpointsItemsWithNotReadyPods)', () => {
    const subsets = desiredSubsets(testService(), [testPod('a', '1.2.3.4', { ready: false })]);
    expect(subsets).toEqual([
      { notReadyAddresses: [address('1.2.3.4', 'a')], ports: [{ port: 8080, protocol: 'TCP' }] },
    ]);
  });

  it('publishNotReadyAddresses: not-ready and terminating pods are addresses (TestSyncEndpointsServiceNotReadyPublish...)', () => {
    const svc = testService('foo', { publishNotReadyAddresses: true });
    const subsets = desiredSubsets(svc, [
      testPod('a', '1.2.3.4', { ready: false }),
      testPod('b', '1.2.3.5', { deleting: true }),
    ]);
    expect(subsets[0].addresses?.map((a) => a.ip)).toEqual(['1.2.3.4', '1.2.3.5']);
    expect(subsets[0].notReadyAddresses).toBeUndefined();
  });

  it('leaves out terminating, terminal and IP-less pods (TestShouldPodBeInEndpoints)', () => {
    const noIp = testPod('c', '');
    noIp.status = { ...noIp.status, podIP: undefined, podIPs: [] };
    const subsets = desiredSubsets(testService(), [
      testPod('a', '1.2.3.4', { deleting: true }),
      testPod('b', '1.2.3.5', { phase: 'Succeeded' }),
      testPod('d', '1.2.3.6', { phase: 'Failed' }),
      noIp,
    ]);
    expect(subsets).toEqual([]);
  });

  it('resolves a named targetPort per pod and leaves out pods without that port', () => {
    const svc = testService('foo', {
      ports: [{ name: 'web', port: 80, targetPort: 'http', protocol: 'TCP' }],
    });
    const other = testPod('b', '1.2.3.5', {
      spec: {
        nodeName: 'node-1',
        containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 9090 }] }],
      },
    });
    const none = testPod('c', '1.2.3.6', { spec: { nodeName: 'node-1', containers: [{ name: 'c' }] } });
    const subsets = desiredSubsets(svc, [testPod('a', '1.2.3.4'), other, none]);
    expect(subsets).toHaveLength(2);
    expect(subsets).toContainEqual({
      addresses: [address('1.2.3.4', 'a')],
      ports: [{ name: 'web', port: 8080, protocol: 'TCP' }],
    });
    expect(subsets).toContainEqual({
      addresses: [address('1.2.3.5', 'b')],
      ports: [{ name: 'web', port: 9090, protocol: 'TCP' }],
    });
  });

  it('sets the hostname of a pod whose subdomain is this Service; a headless Service without ports keeps addresses', () => {
    const svc = testService('foo', { clusterIP: 'None', ports: [] });
    const named = testPod('a', '1.2.3.4', {
      spec: { nodeName: 'node-1', hostname: 'web-0', subdomain: 'foo' },
    });
    const elsewhere = testPod('b', '1.2.3.5', {
      spec: { nodeName: 'node-1', hostname: 'web-1', subdomain: 'bar' },
    });
    expect(desiredSubsets(svc, [named, elsewhere])).toEqual([
      { addresses: [{ ...address('1.2.3.4', 'a'), hostname: 'web-0' }, address('1.2.3.5', 'b')] },
    ]);
    // With a cluster IP and no ports there is nothing to list.
    expect(desiredSubsets(testService('foo', { ports: [] }), [named])).toEqual([]);
  });
});

describe('endpointsToWrite', () => {
  const svc = testService('foo', {}, { team: 'a' });
  const pods = [testPod('a', '1.2.3.4')];

  it('creates the Endpoints named as the Service with its labels and the trigger time', () => {
    const ep = endpointsToWrite(
      svc,
      undefined,
      desiredSubsets(svc, pods),
      Date.parse('2026-01-01T00:00:00Z'),
    );
    expect(ep?.metadata).toEqual({
      name: 'foo',
      namespace: 'ns',
      labels: { team: 'a' },
      annotations: { [LAST_CHANGE_TRIGGER_TIME]: '2026-01-01T00:00:00Z' },
    });
    expect(ep?.subsets?.[0].addresses?.[0].ip).toBe('1.2.3.4');
  });

  it('writes nothing when the subsets and labels are already right, whatever the trigger time', () => {
    const current = endpointsToWrite(svc, undefined, desiredSubsets(svc, pods), undefined)!;
    expect(endpointsToWrite(svc, current, desiredSubsets(svc, pods), Date.now())).toBeUndefined();
    // A changed Service label is written.
    const relabelled = { ...svc, metadata: { ...svc.metadata, labels: { team: 'b' } } };
    expect(
      endpointsToWrite(relabelled, current, desiredSubsets(svc, pods), undefined)?.metadata.labels,
    ).toEqual({
      team: 'b',
    });
  });

  it('labels the Endpoints of a headless Service, and that label is no change', () => {
    const headless = testService('foo', { clusterIP: 'None' });
    const ep = endpointsToWrite(headless, undefined, desiredSubsets(headless, pods), undefined)!;
    expect(ep.metadata.labels).toEqual({ [HEADLESS_LABEL]: '' });
    expect(endpointsToWrite(headless, ep, desiredSubsets(headless, pods), undefined)).toBeUndefined();
  });

  it('truncates over 1000 addresses and annotates it, and clears the annotation once back under', () => {
    const many = Array.from({ length: 1001 }, (_, i) => testPod(`p${i}`, `10.0.${i >> 8}.${i & 255}`));
    const ep = endpointsToWrite(svc, undefined, desiredSubsets(svc, many), undefined)!;
    expect(ep.metadata.annotations?.[OVER_CAPACITY]).toBe('truncated');
    expect(ep.subsets?.[0].addresses).toHaveLength(1000);
    const back = endpointsToWrite(svc, ep, desiredSubsets(svc, many.slice(0, 10)), undefined)!;
    expect(back.metadata.annotations?.[OVER_CAPACITY]).toBeUndefined();
    expect(back.subsets?.[0].addresses).toHaveLength(10);
  });

  it('formats trigger times as Go’s RFC3339Nano', () => {
    expect(formatRfc3339Nano(Date.parse('2026-01-01T00:00:00.000Z'))).toBe('2026-01-01T00:00:00Z');
    expect(formatRfc3339Nano(Date.parse('2026-01-01T00:00:00.120Z'))).toBe('2026-01-01T00:00:00.12Z');
  });
});

/** TestGetServicesToUpdateOnPodChange (staging/src/k8s.io/endpointslice/util/controller_utils_test.go). */
describe('servicesToUpdateOnPodChange', () => {
  const a = testService('a', { selector: { app: 'foo' } });
  const b = testService('b', { selector: { app: 'bar' } });
  const bump = (p: ReturnType<typeof testPod>) => ({
    ...p,
    metadata: { ...p.metadata, resourceVersion: '2' },
  });

  it('nothing for the same resourceVersion or an irrelevant change', () => {
    const p = testPod('p', '1.1.1.1');
    expect([...servicesToUpdateOnPodChange([a, b], p, p)]).toEqual([]);
    expect([...servicesToUpdateOnPodChange([a, b], p, bump(p))]).toEqual([]);
  });

  it('the current Services when readiness or the IP changes', () => {
    const p = testPod('p', '1.1.1.1');
    expect([
      ...servicesToUpdateOnPodChange([a, b], p, bump(testPod('p', '1.1.1.1', { ready: false }))),
    ]).toEqual(['ns/a']);
    expect([...servicesToUpdateOnPodChange([a, b], p, bump(testPod('p', '1.1.1.2')))]).toEqual(['ns/a']);
  });

  it('the Services left and joined when only labels change; all of them when the state changed too', () => {
    const p = testPod('p', '1.1.1.1');
    const moved = bump(testPod('p', '1.1.1.1', { labels: { app: 'bar' } }));
    expect([...servicesToUpdateOnPodChange([a, b], p, moved)].sort()).toEqual(['ns/a', 'ns/b']);
    const movedAndDeleting = bump(testPod('p', '1.1.1.1', { labels: { app: 'bar' }, deleting: true }));
    expect([...servicesToUpdateOnPodChange([a, b], p, movedAndDeleting)].sort()).toEqual(['ns/a', 'ns/b']);
    const relabelledSame = bump(testPod('p', '1.1.1.1', { labels: { app: 'foo', x: 'y' } }));
    expect([...servicesToUpdateOnPodChange([a, b], p, relabelledSame)]).toEqual([]);
  });
});
