import { describe, expect, it } from '@jest/globals';

import {
  desiredIngress,
  EXCLUDE_FROM_LB_LABEL,
  handlesService,
  type LbNode,
  type LbService,
  nodeLbAddress,
  sameIngress,
} from './lb-status.js';

const node = (
  name: string,
  o: {
    internal?: string;
    external?: string;
    ready?: boolean;
    unschedulable?: boolean;
    labels?: Record<string, string>;
  } = {},
): LbNode => ({
  metadata: { name, labels: o.labels },
  spec: { unschedulable: o.unschedulable },
  status: {
    conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
    addresses: [
      { type: 'Hostname', address: name },
      ...(o.internal ? [{ type: 'InternalIP', address: o.internal }] : []),
      ...(o.external ? [{ type: 'ExternalIP', address: o.external }] : []),
    ],
  },
});
const svc = (type: string, spec: Record<string, unknown> = {}): LbService => ({
  metadata: { name: 's', namespace: 'ns' },
  spec: { type, ...spec },
});

describe('nodeLbAddress (k3s servicelb getStatus, upstream nodeIncludedPredicate)', () => {
  it.each([
    ['InternalIP of a Ready, schedulable node', node('a', { internal: '10.0.0.1' }), '10.0.0.1'],
    ['ExternalIP when the node has one', node('a', { internal: '10.0.0.1', external: '1.2.3.4' }), '1.2.3.4'],
    ['none for a NotReady node', node('a', { internal: '10.0.0.1', ready: false }), undefined],
    ['none for a cordoned node', node('a', { internal: '10.0.0.1', unschedulable: true }), undefined],
    [
      'none for a node labelled out of load balancers',
      node('a', { internal: '10.0.0.1', labels: { [EXCLUDE_FROM_LB_LABEL]: '' } }),
      undefined,
    ],
    ['none for a node without an IP address', node('a'), undefined],
  ])('%s', (_what, n, want) => expect(nodeLbAddress(n)).toBe(want));

  it('none for a node that has no Ready condition yet', () => {
    const n = node('a', { internal: '10.0.0.1' });
    n.status!.conditions = [];
    expect(nodeLbAddress(n)).toBeUndefined();
  });
});

describe('desiredIngress', () => {
  const nodes = [
    node('c', { internal: '10.0.0.10' }),
    node('a', { internal: '10.0.0.9' }),
    node('b', { internal: '10.0.0.9' }),
    node('d', { internal: '10.0.0.2', ready: false }),
  ];

  it('one VIP per distinct ready node address, sorted by address', () => {
    expect(desiredIngress(svc('LoadBalancer'), nodes)).toEqual([
      { ip: '10.0.0.9', ipMode: 'VIP' },
      { ip: '10.0.0.10', ipMode: 'VIP' },
    ]);
  });

  it('empty when no node is ready (the Service stays <pending>)', () => {
    expect(desiredIngress(svc('LoadBalancer'), [nodes[3]])).toEqual([]);
  });

  it('empty for a Service of another type: its old addresses are cleared', () => {
    expect(desiredIngress(svc('NodePort'), nodes)).toEqual([]);
    expect(desiredIngress(svc('ClusterIP'), nodes)).toEqual([]);
  });

  it('not ours for a LoadBalancer of another class', () => {
    const classed = svc('LoadBalancer', { loadBalancerClass: 'example.com/lb' });
    expect(handlesService(classed)).toBe(false);
    expect(desiredIngress(classed, nodes)).toBeUndefined();
    expect(handlesService(svc('LoadBalancer'))).toBe(true);
  });
});

describe('sameIngress', () => {
  const want = [
    { ip: '10.0.0.1', ipMode: 'VIP' },
    { ip: '10.0.0.2', ipMode: 'VIP' },
  ];
  it('equal lists need no write; a missing, reordered, shorter or different list does', () => {
    expect(
      sameIngress(
        want.map((i) => ({ ...i })),
        want,
      ),
    ).toBe(true);
    expect(sameIngress(undefined, [])).toBe(true);
    expect(sameIngress(undefined, want)).toBe(false);
    expect(sameIngress([...want].reverse(), want)).toBe(false);
    expect(sameIngress(want.slice(1), want)).toBe(false);
    expect(sameIngress([{ ip: '10.0.0.1' }, want[1]], want)).toBe(false);
  });
});
