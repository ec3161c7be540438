import { describe, expect, it } from '@jest/globals';

import { HEADLESS_LABEL, type Node } from '../endpoints/service-types.js';
import { testPod, testService } from '../endpoints/test-objects.js';
import { type Pod } from '../replicaset/pod-types.js';
import { planSlices, type SlicePlan } from './reconciler.js';
import { CONTROLLER_NAME, type EndpointSlice, MANAGED_BY_LABEL, SERVICE_NAME_LABEL } from './slice-types.js';

const node: Node = { metadata: { name: 'node-1', labels: { 'topology.kubernetes.io/zone': 'zone-a' } } };
const nodes = (name: string) => (name === 'node-1' ? node : undefined);
const pods = (n: number, from = 0): Pod[] =>
  Array.from({ length: n }, (_, i) => testPod(`p${from + i}`, `10.0.${(from + i) >> 8}.${(from + i) & 255}`));

/** Applies a plan as the API server would, naming new slices, so that the next plan starts from it. */
function apply(existing: EndpointSlice[], plan: SlicePlan, names = { next: 0 }): EndpointSlice[] {
  const gone = new Set(plan.delete.map((s) => s.metadata.name));
  const updated = new Map(plan.update.map((s) => [s.metadata.name, s]));
  const out = existing
    .filter((s) => !gone.has(s.metadata.name))
    .map((s) => updated.get(s.metadata.name) ?? s);
  for (const s of plan.create)
    out.push({
      ...s,
      metadata: { ...s.metadata, name: `${s.metadata.generateName}${names.next++}`, uid: `s${names.next}` },
    });
  return out;
}
const sizes = (slices: EndpointSlice[]) =>
  slices.map((s) => (s.endpoints ?? []).length).sort((a, b) => b - a);

/** After staging/src/k8s.io/endpointslice/reconciler_test.go. */
describe('planSlices (the EndpointSlice reconciler)', () => {
  const svc = testService('foo', {}, { team: 'a' });

  it('a Service without pods gets one placeholder slice, kept as it is (TestReconcile1PodNoEndpointSlices’ empty case)', () => {
    const plan = planSlices({ service: svc, pods: [], existing: [], node: nodes });
    expect(plan.create).toHaveLength(1);
    expect(plan.create[0]).toMatchObject({ addressType: 'IPv4', endpoints: [], ports: [] });
    const again = planSlices({ service: svc, pods: [], existing: apply([], plan), node: nodes });
    expect(again).toEqual({ create: [], update: [], delete: [], errors: [], missingNodes: [] });
  });

  it('one pod: one slice with its conditions, node, zone, target, labels and owner (TestReconcile1Pod)', () => {
    const plan = planSlices({ service: svc, pods: [testPod('a', '1.2.3.4')], existing: [], node: nodes });
    expect(plan.create).toHaveLength(1);
    const slice = plan.create[0];
    expect(slice.metadata.generateName).toBe('foo-');
    expect(slice.metadata.labels).toEqual({
      team: 'a',
      [SERVICE_NAME_LABEL]: 'foo',
      [MANAGED_BY_LABEL]: CONTROLLER_NAME,
    });
    expect(slice.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'v1',
        kind: 'Service',
        name: 'foo',
        uid: 'uid-svc-foo',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(slice.ports).toEqual([{ name: '', protocol: 'TCP', port: 8080 }]);
    expect(slice.endpoints).toEqual([
      {
        addresses: ['1.2.3.4'],
        conditions: { ready: true, serving: true, terminating: false },
        targetRef: { kind: 'Pod', namespace: 'ns', name: 'a', uid: 'uid-a' },
        nodeName: 'node-1',
        zone: 'zone-a',
      },
    ]);
  });

  it('conditions: not ready → ready=false serving=false; terminating → ready=false serving as readiness', () => {
    const plan = planSlices({
      service: svc,
      pods: [testPod('a', '1.1.1.1', { ready: false }), testPod('b', '1.1.1.2', { deleting: true })],
      existing: [],
      node: nodes,
    });
    expect(plan.create[0].endpoints?.map((e) => [e.targetRef?.name, e.conditions])).toEqual([
      ['a', { ready: false, serving: false, terminating: false }],
      ['b', { ready: false, serving: true, terminating: true }],
    ]);
    const published = planSlices({
      service: testService('foo', { publishNotReadyAddresses: true }),
      pods: [testPod('a', '1.1.1.1', { ready: false })],
      existing: [],
      node: nodes,
    });
    expect(published.create[0].endpoints?.[0].conditions).toEqual({
      ready: true,
      serving: false,
      terminating: false,
    });
  });

  it('250 pods make 100/100/50 slices; no write when nothing changed (TestReconcileManyPods)', () => {
    const plan = planSlices({ service: svc, pods: pods(250), existing: [], node: nodes });
    expect(sizes(plan.create)).toEqual([100, 100, 50]);
    const slices = apply([], plan);
    expect(planSlices({ service: svc, pods: pods(250), existing: slices, node: nodes })).toEqual({
      create: [],
      update: [],
      delete: [],
      errors: [],
      missingNodes: [],
    });
  });

  it('removing endpoints updates slices in place and deletes only emptied ones', () => {
    const slices = apply([], planSlices({ service: svc, pods: pods(250), existing: [], node: nodes }));
    // Keep the last 30 pods: only the slices that held them stay.
    const plan = planSlices({ service: svc, pods: pods(30, 220), existing: slices, node: nodes });
    expect(plan.create).toEqual([]);
    expect(plan.update.length + plan.delete.length).toBeLessThanOrEqual(3);
    const after = apply(slices, plan);
    expect(after.reduce((n, s) => n + (s.endpoints?.length ?? 0), 0)).toBe(30);
    expect(after.every((s) => slices.some((o) => o.metadata.name === s.metadata.name))).toBe(true);
  });

  it('new endpoints fill slices being updated anyway, fullest first (TestReconcileEndpointSlicesSomePreexisting)', () => {
    const slices = apply([], planSlices({ service: svc, pods: pods(150), existing: [], node: nodes }));
    // p0 changes readiness (an update of the full slice), and 60 pods come: 0 fit there, 50 fill the other.
    const changed = [testPod('p0', '10.0.0.0', { ready: false }), ...pods(149, 1), ...pods(50, 150)];
    const plan = planSlices({ service: svc, pods: changed, existing: slices, node: nodes });
    expect(plan.create).toEqual([]);
    expect(sizes(plan.update)).toEqual([100, 100]);
  });

  it('leftover endpoints go into the unchanged slice they fill closest to full (getSliceToFill)', () => {
    const slices = apply([], planSlices({ service: svc, pods: pods(170), existing: [], node: nodes }));
    const plan = planSlices({ service: svc, pods: pods(195), existing: slices, node: nodes });
    expect(plan.create).toEqual([]);
    expect(plan.update).toHaveLength(1);
    expect(plan.update[0].endpoints).toHaveLength(95);
  });

  it('a named targetPort with different numbers per pod gives one slice per port set', () => {
    const named = testService('foo', {
      ports: [{ name: 'web', port: 80, targetPort: 'http', protocol: 'TCP' }],
    });
    const other = testPod('b', '1.1.1.2', {
      spec: {
        nodeName: 'node-1',
        containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 9090 }] }],
      },
    });
    const plan = planSlices({
      service: named,
      pods: [testPod('a', '1.1.1.1'), other],
      existing: [],
      node: nodes,
    });
    expect(plan.create.map((s) => [s.ports?.[0].port, s.endpoints?.map((e) => e.addresses[0])])).toEqual([
      [8080, ['1.1.1.1']],
      [9090, ['1.1.1.2']],
    ]);
  });

  it('a slice whose ports are no longer wanted is replaced by an update of it, not a create and a delete', () => {
    const slices = apply([], planSlices({ service: svc, pods: pods(3), existing: [], node: nodes }));
    const moved = testService(
      'foo',
      { ports: [{ name: '', port: 80, targetPort: 9000, protocol: 'TCP' }] },
      { team: 'a' },
    );
    const plan = planSlices({ service: moved, pods: pods(3), existing: slices, node: nodes });
    expect(plan.create).toEqual([]);
    expect(plan.delete).toEqual([]);
    expect(plan.update.map((s) => [s.metadata.name, s.ports?.[0].port])).toEqual([
      [slices[0].metadata.name, 9000],
    ]);
  });

  it('a Service label change updates the slices’ labels; headless gets the headless label (TestReconcileEndpointSlicesUpdating labels)', () => {
    const slices = apply([], planSlices({ service: svc, pods: pods(2), existing: [], node: nodes }));
    const relabelled = testService('foo', {}, { team: 'b' });
    const plan = planSlices({ service: relabelled, pods: pods(2), existing: slices, node: nodes });
    expect(plan.update.map((s) => s.metadata.labels?.team)).toEqual(['b']);
    const headless = planSlices({
      service: testService('foo', { clusterIP: 'None' }),
      pods: pods(1),
      existing: [],
      node: nodes,
    });
    expect(headless.create[0].metadata.labels?.[HEADLESS_LABEL]).toBe('');
  });

  it('hostname for pods naming a headless Service as subdomain', () => {
    const headless = testService('foo', { clusterIP: 'None' });
    const pod = testPod('a', '1.1.1.1', {
      spec: { nodeName: 'node-1', hostname: 'web-0', subdomain: 'foo' },
    });
    expect(
      planSlices({ service: headless, pods: [pod], existing: [], node: nodes }).create[0].endpoints?.[0]
        .hostname,
    ).toBe('web-0');
  });

  it('a pod on an unknown node is left out and reported, unless publishNotReadyAddresses', () => {
    const lost = testPod('a', '1.1.1.1', { spec: { nodeName: 'gone' } });
    const plan = planSlices({ service: svc, pods: [lost], existing: [], node: nodes });
    expect(plan.errors).toHaveLength(1);
    expect(plan.missingNodes).toEqual(['gone']);
    expect(plan.create[0].endpoints).toEqual([]);
    const published = planSlices({
      service: testService('foo', { publishNotReadyAddresses: true }),
      pods: [lost],
      existing: [],
      node: nodes,
    });
    expect(published.errors).toEqual([]);
    expect(published.create[0].endpoints?.[0].nodeName).toBe('gone');
  });

  it('slices not owned by this Service (an older one of the same name) are deleted', () => {
    const slices = apply([], planSlices({ service: svc, pods: pods(2), existing: [], node: nodes }));
    const successor = { ...svc, metadata: { ...svc.metadata, uid: 'new-uid' } };
    const plan = planSlices({ service: successor, pods: pods(2), existing: slices, node: nodes });
    expect(plan.delete.map((s) => s.metadata.name)).toEqual([slices[0].metadata.name]);
    expect(plan.create).toHaveLength(1);
    expect(plan.create[0].metadata.ownerReferences?.[0].uid).toBe('new-uid');
  });
});
