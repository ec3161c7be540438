import { describe, expect, it } from '@jest/globals';

import { coreToEventsV1, eventsV1ToCore } from './event-conversion.js';

describe('Event conversion between core/v1 and events.k8s.io/v1', () => {
  const core = {
    metadata: { name: 'e' },
    involvedObject: { kind: 'Pod', name: 'web' },
    message: 'Started',
    reason: 'Started',
    reportingComponent: 'kubelet',
    source: { component: 'kubelet' },
    count: 2,
    type: 'Normal',
  };
  const v1 = {
    metadata: { name: 'e' },
    regarding: { kind: 'Pod', name: 'web' },
    note: 'Started',
    reason: 'Started',
    reportingController: 'kubelet',
    deprecatedSource: { component: 'kubelet' },
    deprecatedCount: 2,
    type: 'Normal',
  };

  it('renames each field both ways and round-trips', () => {
    expect(coreToEventsV1(core)).toEqual(v1);
    expect(eventsV1ToCore(v1)).toEqual(core);
    expect(eventsV1ToCore(coreToEventsV1(core))).toEqual(core);
  });
});
