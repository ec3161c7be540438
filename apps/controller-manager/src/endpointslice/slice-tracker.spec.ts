import { describe, expect, it } from '@jest/globals';

import { TriggerTimeTracker } from '../endpoints/trigger-time-tracker.js';
import { testPod, testService } from '../endpoints/test-objects.js';
import { SliceTracker } from './slice-tracker.js';
import { type EndpointSlice, SERVICE_NAME_LABEL } from './slice-types.js';

const slice = (uid: string, rv: number): EndpointSlice => ({
  metadata: {
    name: uid,
    namespace: 'ns',
    uid,
    resourceVersion: String(rv),
    labels: { [SERVICE_NAME_LABEL]: 'svc' },
  },
  addressType: 'IPv4',
});

/** After staging/src/k8s.io/endpointslice/endpointslice_tracker_test.go. */
describe('SliceTracker', () => {
  it('ShouldSync: unknown slices and slices newer than our write, not the echo of our write', () => {
    const t = new SliceTracker();
    expect(t.shouldSync(slice('a', 5))).toBe(true);
    t.update(slice('a', 5));
    expect(t.shouldSync(slice('a', 5))).toBe(false);
    expect(t.shouldSync(slice('a', 6))).toBe(true);
  });

  it('StaleSlices: a written slice missing or older in the cache, or one expected deleted still there', () => {
    const t = new SliceTracker();
    expect(t.stale('ns/svc', [])).toBe(false);
    t.update(slice('a', 5));
    expect(t.stale('ns/svc', [])).toBe(true);
    expect(t.stale('ns/svc', [slice('a', 4)])).toBe(true);
    expect(t.stale('ns/svc', [slice('a', 5)])).toBe(false);
    t.expectDeletion(slice('a', 5));
    expect(t.stale('ns/svc', [slice('a', 5)])).toBe(true);
    expect(t.stale('ns/svc', [])).toBe(false);
  });

  it('HandleDeletion: true for a deletion we made, false for someone else’s', () => {
    const t = new SliceTracker();
    t.update(slice('a', 5));
    t.update(slice('b', 6));
    t.expectDeletion(slice('a', 5));
    expect(t.handleDeletion(slice('a', 5))).toBe(true);
    expect(t.handleDeletion(slice('b', 6))).toBe(false);
    expect(t.has(slice('b', 6))).toBe(false);
  });
});

/** After staging/src/k8s.io/endpointslice/util/trigger_time_tracker_test.go. */
describe('TriggerTimeTracker', () => {
  const svc = testService();
  const withReadyAt = (name: string, at: string) => {
    const p = testPod(name, '1.1.1.1');
    p.status!.conditions = [{ type: 'Ready', status: 'True', lastTransitionTime: at }];
    return p;
  };

  it('first sync: the earliest of the Service’s creation and the pods’ Ready transitions', () => {
    const t = new TriggerTimeTracker();
    expect(t.compute('ns/foo', svc, [withReadyAt('a', '2026-01-01T00:00:05Z')])).toBe(
      Date.parse('2026-01-01T00:00:00Z'),
    );
  });

  it('later syncs: only what changed since; nothing when nothing did', () => {
    const t = new TriggerTimeTracker();
    t.compute('ns/foo', svc, [withReadyAt('a', '2026-01-01T00:00:05Z')]);
    expect(t.compute('ns/foo', svc, [withReadyAt('a', '2026-01-01T00:00:05Z')])).toBeUndefined();
    expect(
      t.compute('ns/foo', svc, [
        withReadyAt('a', '2026-01-01T00:00:09Z'),
        withReadyAt('b', '2026-01-01T00:00:07Z'),
      ]),
    ).toBe(Date.parse('2026-01-01T00:00:07Z'));
  });
});
