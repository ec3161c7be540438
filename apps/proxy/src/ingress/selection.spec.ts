import { describe, expect, it } from '@jest/globals';

import { resolveBackend, RoundRobin } from './backend-endpoints.js';
import { DEFAULT_CLASS_ANNOTATION, handlesIngress, LEGACY_CLASS_ANNOTATION } from './class-selection.js';
import { statusToWrite } from './ingress-status.js';
import { type EndpointSlice, type Ingress, type IngressClass, type Service } from './ingress-types.js';

const ME = 'wake.io/ingress';
const cls = (name: string, controller: string, isDefault = false): IngressClass => ({
  metadata: { name, annotations: isDefault ? { [DEFAULT_CLASS_ANNOTATION]: 'true' } : undefined },
  spec: { controller },
});
const ing = (className?: string, annotation?: string): Ingress => ({
  metadata: {
    name: 'i',
    namespace: 'ns',
    annotations: annotation ? { [LEGACY_CLASS_ANNOTATION]: annotation } : undefined,
  },
  spec: { ingressClassName: className },
});
const classes = (...c: IngressClass[]) => ({
  get: (name: string) => c.find((x) => x.metadata.name === name),
  list: () => c,
});

describe('handlesIngress (IngressClass selection)', () => {
  const mine = cls('wake', ME);
  const theirs = cls('nginx', 'k8s.io/ingress-nginx');

  it('spec.ingressClassName naming a class of this controller: served; of another or unknown: not', () => {
    expect(handlesIngress(ing('wake'), classes(mine, theirs), { controller: ME })).toBe(true);
    expect(handlesIngress(ing('nginx'), classes(mine, theirs), { controller: ME })).toBe(false);
    expect(handlesIngress(ing('missing'), classes(mine, theirs), { controller: ME })).toBe(false);
    // Naming a class is explicit: watching class-less Ingresses does not take another class's.
    expect(
      handlesIngress(ing('nginx'), classes(mine, theirs), { controller: ME, watchIngressWithoutClass: true }),
    ).toBe(false);
  });

  it('the deprecated kubernetes.io/ingress.class annotation names a class the same way', () => {
    expect(handlesIngress(ing(undefined, 'wake'), classes(mine, theirs), { controller: ME })).toBe(true);
    expect(handlesIngress(ing(undefined, 'nginx'), classes(mine, theirs), { controller: ME })).toBe(false);
  });

  it('no class: served when a class of ours is the default, or when told to watch class-less Ingresses', () => {
    expect(handlesIngress(ing(), classes(mine, theirs), { controller: ME })).toBe(false);
    expect(handlesIngress(ing(), classes(cls('wake', ME, true)), { controller: ME })).toBe(true);
    expect(
      handlesIngress(ing(), classes(cls('nginx', 'k8s.io/ingress-nginx', true)), { controller: ME }),
    ).toBe(false);
    expect(handlesIngress(ing(), classes(), { controller: ME, watchIngressWithoutClass: true })).toBe(true);
    // "false" or any other value is not a default.
    const notDefault = cls('wake', ME);
    notDefault.metadata.annotations = { [DEFAULT_CLASS_ANNOTATION]: 'false' };
    expect(handlesIngress(ing(), classes(notDefault), { controller: ME })).toBe(false);
  });
});

describe('resolveBackend (EndpointSlices of a Service)', () => {
  const service: Service = {
    metadata: { name: 's', namespace: 'ns' },
    spec: {
      ports: [
        { name: 'http', port: 80, protocol: 'TCP' },
        { name: 'admin', port: 9000, protocol: 'TCP' },
      ],
    },
  };
  const slice = (
    ports: { name: string; port: number }[],
    endpoints: [string, boolean | undefined][],
    addressType: EndpointSlice['addressType'] = 'IPv4',
  ): EndpointSlice => ({
    metadata: { name: 'x', namespace: 'ns' },
    addressType,
    ports: ports.map((p) => ({ ...p, protocol: 'TCP' })),
    endpoints: endpoints.map(([ip, ready]) => ({ addresses: [ip], conditions: { ready } })),
  });

  it('by port number or name, ready (or unset) endpoints with the slice’s port of that name, sorted, once each', () => {
    const slices = [
      slice(
        [
          { name: 'http', port: 8080 },
          { name: 'admin', port: 9090 },
        ],
        [
          ['10.0.0.2', true],
          ['10.0.0.1', undefined],
          ['10.0.0.3', false],
        ],
      ),
      slice([{ name: 'http', port: 8081 }], [['10.0.0.9', true]]),
      slice([{ name: 'http', port: 8080 }], [['10.0.0.1', true]]),
    ];
    expect(resolveBackend({ name: 's', port: { number: 80 } }, service, slices)).toEqual({
      upstreams: [
        { host: '10.0.0.1', port: 8080 },
        { host: '10.0.0.2', port: 8080 },
        { host: '10.0.0.9', port: 8081 },
      ],
    });
    expect(resolveBackend({ name: 's', port: { name: 'admin' } }, service, slices)).toEqual({
      upstreams: [
        { host: '10.0.0.1', port: 9090 },
        { host: '10.0.0.2', port: 9090 },
      ],
    });
  });

  it('says why there is nowhere to go: no Service, no such port, no ready endpoint', () => {
    expect(resolveBackend({ name: 's', port: { number: 80 } }, undefined, [])).toMatchObject({
      reason: 'no-service',
    });
    expect(resolveBackend({ name: 's', port: { number: 81 } }, service, [])).toMatchObject({
      reason: 'no-port',
    });
    expect(
      resolveBackend({ name: 's', port: { number: 80 } }, service, [
        slice([{ name: 'http', port: 8080 }], [['10.0.0.3', false]]),
        slice([{ name: 'http', port: 8080 }], [['x.example', true]], 'FQDN'),
      ]),
    ).toMatchObject({ reason: 'no-endpoints' });
  });
});

describe('RoundRobin', () => {
  it('starts each request one further, per backend, and lists the rest to retry in turn', () => {
    const rr = new RoundRobin();
    const ups = [1, 2, 3].map((i) => ({ host: `10.0.0.${i}`, port: 80 }));
    const firsts = Array.from({ length: 6 }, () => rr.order('a', ups)[0].host);
    expect(firsts).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(rr.order('b', ups).map((u) => u.host)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(rr.order('a', ups).map((u) => u.host)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(rr.order('a', ups).map((u) => u.host)).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.1']);
    // Fewer endpoints than the turn: it wraps.
    expect(rr.order('a', ups.slice(0, 1))[0].host).toBe('10.0.0.1');
    expect(rr.order('a', [])).toEqual([]);
  });
});

describe('statusToWrite', () => {
  const me = { ip: '10.0.0.5' };
  it('adds our address to an Ingress served, keeps the others, sorted; nothing when already there', () => {
    expect(statusToWrite(undefined, me, true)).toEqual([me]);
    expect(statusToWrite([{ ip: '10.0.0.9' }, { hostname: 'a.example' }], me, true)).toEqual([
      { ip: '10.0.0.5' },
      { ip: '10.0.0.9' },
      { hostname: 'a.example' },
    ]);
    expect(statusToWrite([{ ip: '10.0.0.5' }], me, true)).toBeUndefined();
  });
  it('takes only our address off an Ingress no longer served; nothing when it was not there', () => {
    expect(statusToWrite([{ ip: '10.0.0.5' }, { ip: '10.0.0.9' }], me, false)).toEqual([{ ip: '10.0.0.9' }]);
    expect(statusToWrite([{ ip: '10.0.0.5' }], me, false)).toEqual([]);
    expect(statusToWrite([{ ip: '10.0.0.9' }], me, false)).toBeUndefined();
    expect(statusToWrite(undefined, me, false)).toBeUndefined();
  });
});
