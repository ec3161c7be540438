import { describe, expect, it } from '@jest/globals';

import { GroupDiscoveryFailedError, groupVersionResources } from './discovery.js';
import { type NamespaceCondition, NamespaceConditionUpdater } from './namespace-conditions.js';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-01T00:00:09Z';
const byType = (cs: NamespaceCondition[]) => Object.fromEntries(cs.map((c) => [c.type, c]));
const totals = (resources: [string, number][] = [], finalizers: [string, number][] = []) => ({
  resourceToNumRemaining: new Map(resources),
  finalizersToNumRemaining: new Map(finalizers),
});

describe('NamespaceConditionUpdater (upstream namespace_condition_utils.go)', () => {
  it('a clean pass sets all five conditions False with their "ok" reasons', () => {
    const u = new NamespaceConditionUpdater(() => T0);
    u.processContentTotals(totals());
    const { conditions, changed } = u.update();
    expect(changed).toBe(true);
    expect(conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['NamespaceDeletionDiscoveryFailure', 'False', 'ResourcesDiscovered'],
      ['NamespaceDeletionGroupVersionParsingFailure', 'False', 'ParsedGroupVersions'],
      ['NamespaceDeletionContentFailure', 'False', 'ContentDeleted'],
      ['NamespaceContentRemaining', 'False', 'ContentRemoved'],
      ['NamespaceFinalizersRemaining', 'False', 'ContentHasNoFinalizers'],
    ]);
    // The same again: nothing to write.
    const again = new NamespaceConditionUpdater(() => T1);
    again.processContentTotals(totals());
    expect(again.update(conditions).changed).toBe(false);
  });

  it('says what remains, sorted, and by which finalizers', () => {
    const u = new NamespaceConditionUpdater(() => T0);
    u.processContentTotals(
      totals(
        [
          ['pods.', 2],
          ['deployments.apps', 1],
          ['secrets.', 0],
        ],
        [
          ['example.com/b', 1],
          ['example.com/a', 2],
        ],
      ),
    );
    const c = byType(u.update().conditions);
    expect(c.NamespaceContentRemaining).toMatchObject({
      status: 'True',
      reason: 'SomeResourcesRemain',
      message:
        'Some resources are remaining: deployments.apps has 1 resource instances, pods. has 2 resource instances',
    });
    expect(c.NamespaceFinalizersRemaining).toMatchObject({
      status: 'True',
      reason: 'SomeFinalizersRemain',
      message:
        'Some content in the namespace has finalizers remaining: example.com/a in 2 resource instances, example.com/b in 1 resource instances',
    });
  });

  it('turns discovery, parsing and delete errors into their conditions', () => {
    const u = new NamespaceConditionUpdater(() => T0);
    u.processDiscoverResourcesErr(
      new GroupDiscoveryFailedError(new Map([['metrics.k8s.io/v1beta1', new Error('503')]])),
    );
    u.processGroupVersionErr(new Error('unexpected GroupVersion string: a/b/c'));
    u.processDeleteContentErr(new Error('z failed'));
    u.processDeleteContentErr(new Error('a failed'));
    const c = byType(u.update().conditions);
    expect(c.NamespaceDeletionDiscoveryFailure).toMatchObject({
      status: 'True',
      reason: 'DiscoveryFailed',
      message:
        'Discovery failed for some groups, 1 failing: unable to retrieve the complete list of server APIs: metrics.k8s.io/v1beta1: 503',
    });
    expect(c.NamespaceDeletionGroupVersionParsingFailure).toMatchObject({
      status: 'True',
      reason: 'GroupVersionParsingFailed',
    });
    expect(c.NamespaceDeletionContentFailure).toMatchObject({
      status: 'True',
      reason: 'ContentDeletionFailed',
      message: 'Failed to delete all resource types, 2 remaining: a failed, z failed',
    });
  });

  it('moves lastTransitionTime only when the status changes', () => {
    const first = new NamespaceConditionUpdater(() => T0);
    first.processContentTotals(totals([['pods.', 2]]));
    const before = first.update().conditions;
    const fewer = new NamespaceConditionUpdater(() => T1);
    fewer.processContentTotals(totals([['pods.', 1]]));
    const { conditions: after, changed } = fewer.update(before);
    expect(changed).toBe(true);
    expect(byType(after).NamespaceContentRemaining).toMatchObject({
      status: 'True',
      lastTransitionTime: T0,
      message: 'Some resources are remaining: pods. has 1 resource instances',
    });
    const cleared = new NamespaceConditionUpdater(() => T1);
    cleared.processContentTotals(totals());
    expect(byType(cleared.update(after).conditions).NamespaceContentRemaining).toMatchObject({
      status: 'False',
      lastTransitionTime: T1,
      reason: 'ContentRemoved',
    });
    // The caller's conditions are not changed in place.
    expect(byType(before).NamespaceContentRemaining.message).toContain('has 2 resource instances');
  });
});

describe('groupVersionResources (discovery.GroupVersionResources)', () => {
  it('parses core and named groups and reports what does not parse', () => {
    const r = (groupVersion: string, name: string) => ({
      groupVersion,
      name,
      namespaced: true,
      verbs: ['delete'],
    });
    const { gvrs, error } = groupVersionResources([
      r('v1', 'pods'),
      r('apps/v1', 'deployments'),
      r('a/b/c', 'x'),
    ]);
    expect(gvrs).toEqual([
      { group: '', version: 'v1', resource: 'pods' },
      { group: 'apps', version: 'v1', resource: 'deployments' },
    ]);
    expect(error?.message).toBe('unexpected GroupVersion string: a/b/c');
  });
});
