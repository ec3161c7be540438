import { describe, expect, it } from '@jest/globals';

import {
  capacityAnnotationSetCorrectly,
  type EndpointAddress,
  type EndpointSubset,
  OVER_CAPACITY,
  repackSubsets,
  subsetsEqualIgnoringResourceVersion,
  truncateSubsets,
} from './subsets.js';

const addr = (ip: string, uid = ''): EndpointAddress =>
  uid ? { ip, targetRef: { kind: 'Pod', name: uid, uid } } : { ip };
const port = (name: string, p: number) => ({ name, port: p, protocol: 'TCP' });

/** Cases of TestPackSubsets (pkg/api/v1/endpoints/util_test.go). */
describe('repackSubsets (endpoints.RepackSubsets)', () => {
  it('keeps an empty list empty', () => {
    expect(repackSubsets([])).toEqual([]);
  });

  it('keeps addresses without ports (a headless Service without ports)', () => {
    expect(repackSubsets([{ addresses: [addr('1.2.3.4')] }])).toEqual([{ addresses: [addr('1.2.3.4')] }]);
  });

  it('merges the subsets of one address and port set, and drops duplicates', () => {
    expect(
      repackSubsets([
        { addresses: [addr('1.2.3.4')], ports: [port('', 111)] },
        { addresses: [addr('1.2.3.4')], ports: [port('', 111)] },
      ]),
    ).toEqual([{ addresses: [addr('1.2.3.4')], ports: [port('', 111)] }]);
  });

  it('groups addresses offering the same port into one subset, sorted by IP', () => {
    expect(
      repackSubsets([
        { addresses: [addr('5.6.7.8')], ports: [port('', 111)] },
        { addresses: [addr('1.2.3.4')], ports: [port('', 111)] },
      ]),
    ).toEqual([{ addresses: [addr('1.2.3.4'), addr('5.6.7.8')], ports: [port('', 111)] }]);
  });

  it('groups the ports one address offers into one subset', () => {
    expect(
      repackSubsets([
        { addresses: [addr('1.2.3.4')], ports: [port('p', 111)] },
        { addresses: [addr('1.2.3.4')], ports: [port('q', 222)] },
      ]),
    ).toEqual([{ addresses: [addr('1.2.3.4')], ports: [port('p', 111), port('q', 222)] }]);
  });

  it('keeps two pods with one IP apart by their UIDs', () => {
    const [a, b] = [addr('1.2.3.4', 'uid-1'), addr('1.2.3.4', 'uid-2')];
    expect(
      repackSubsets([
        { addresses: [b], ports: [port('', 111)] },
        { addresses: [a], ports: [port('', 111)] },
      ]),
    ).toEqual([{ addresses: [a, b], ports: [port('', 111)] }]);
  });

  it('splits addresses by the port sets they offer', () => {
    const out = repackSubsets([
      { addresses: [addr('1.2.3.4')], ports: [port('', 111)] },
      { addresses: [addr('5.6.7.8')], ports: [port('', 222)] },
    ]);
    expect(out).toHaveLength(2);
    expect(out).toContainEqual({ addresses: [addr('1.2.3.4')], ports: [port('', 111)] });
    expect(out).toContainEqual({ addresses: [addr('5.6.7.8')], ports: [port('', 222)] });
  });

  it('puts ready and not-ready addresses of one port in one subset', () => {
    expect(
      repackSubsets([
        { addresses: [addr('1.2.3.4')], ports: [port('', 111)] },
        { notReadyAddresses: [addr('5.6.7.8')], ports: [port('', 111)] },
      ]),
    ).toEqual([
      { addresses: [addr('1.2.3.4')], notReadyAddresses: [addr('5.6.7.8')], ports: [port('', 111)] },
    ]);
  });

  it('lets not ready trump ready for the same address and port', () => {
    expect(
      repackSubsets([
        { addresses: [addr('1.2.3.4')], ports: [port('', 111)] },
        { notReadyAddresses: [addr('1.2.3.4')], ports: [port('', 111)] },
      ]),
    ).toEqual([{ notReadyAddresses: [addr('1.2.3.4')], ports: [port('', 111)] }]);
  });

  it('gives the same result whatever the input order', () => {
    const subsets: EndpointSubset[] = [
      { addresses: [addr('10.0.0.3')], ports: [port('a', 1)] },
      { notReadyAddresses: [addr('10.0.0.1')], ports: [port('a', 1)] },
      { addresses: [addr('10.0.0.2')], ports: [port('b', 2)] },
      { addresses: [addr('10.0.0.3')], ports: [port('b', 2)] },
    ];
    expect(repackSubsets([...subsets].reverse())).toEqual(repackSubsets(subsets));
  });
});

/** Cases of TestTruncateEndpoints (pkg/controller/endpoint/endpoints_controller_test.go). */
describe('truncateSubsets (truncateEndpoints)', () => {
  const subset = (ready: number, notReady: number, from: number): EndpointSubset => ({
    addresses: Array.from({ length: ready }, (_, i) => addr(`10.0.${from}.${i}`)),
    notReadyAddresses: Array.from({ length: notReady }, (_, i) => addr(`10.1.${from}.${i}`)),
    ports: [port('', 80)],
  });
  const counts = (subsets: EndpointSubset[]) =>
    subsets.map((s) => [s.addresses?.length ?? 0, s.notReadyAddresses?.length ?? 0]);

  it('leaves 1000 or fewer as they are', () => {
    const r = truncateSubsets([subset(500, 500, 0)]);
    expect(r.truncated).toBe(false);
    expect(counts(r.subsets)).toEqual([[500, 500]]);
  });

  it('cuts not-ready addresses first: 800 ready + 400 not ready keep 200 not ready', () => {
    const r = truncateSubsets([subset(800, 400, 0)]);
    expect(r.truncated).toBe(true);
    expect(counts(r.subsets)).toEqual([[800, 200]]);
  });

  it('cuts not-ready addresses across subsets in proportion', () => {
    const r = truncateSubsets([subset(300, 300, 0), subset(400, 300, 1)]);
    expect(counts(r.subsets)).toEqual([
      [300, 150],
      [400, 150],
    ]);
  });

  it('drops every not-ready and keeps ready ones in proportion when ready alone are over 1000', () => {
    const r = truncateSubsets([subset(600, 100, 0), subset(900, 0, 1)]);
    expect(counts(r.subsets)).toEqual([
      [400, 0],
      [600, 0],
    ]);
  });

  it('rounds each share up, the last subset taking what is left', () => {
    const r = truncateSubsets([subset(1001, 0, 0)]);
    expect(counts(r.subsets)).toEqual([[1000, 0]]);
    const three = truncateSubsets([subset(500, 0, 0), subset(500, 0, 1), subset(1, 0, 2)]);
    expect(counts(three.subsets).reduce((n, [r]) => n + r, 0)).toBe(1000);
    expect(counts(three.subsets)).toEqual([
      [500, 0],
      [500, 0],
    ]);
  });
});

describe('the no-op checks', () => {
  it('ignores the targets’ resourceVersions and empty lists', () => {
    const a: EndpointSubset[] = [
      {
        addresses: [{ ip: '1.1.1.1', targetRef: { kind: 'Pod', name: 'p', resourceVersion: '7' } }],
        ports: [],
      },
    ];
    const b: EndpointSubset[] = [{ addresses: [{ targetRef: { name: 'p', kind: 'Pod' }, ip: '1.1.1.1' }] }];
    expect(subsetsEqualIgnoringResourceVersion(a, b)).toBe(true);
    expect(subsetsEqualIgnoringResourceVersion(a, [{ notReadyAddresses: b[0].addresses }])).toBe(false);
  });

  it('capacityAnnotationSetCorrectly: absent under capacity; never right over it', () => {
    const under = [{ addresses: [addr('1.1.1.1')] }];
    expect(capacityAnnotationSetCorrectly({}, under)).toBe(true);
    expect(capacityAnnotationSetCorrectly({ [OVER_CAPACITY]: 'truncated' }, under)).toBe(false);
    const over = [{ addresses: Array.from({ length: 1001 }, (_, i) => addr(`10.0.${i >> 8}.${i & 255}`)) }];
    expect(capacityAnnotationSetCorrectly({ [OVER_CAPACITY]: 'truncated' }, over)).toBe(false);
  });
});
