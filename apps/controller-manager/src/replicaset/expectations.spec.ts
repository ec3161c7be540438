import { describe, expect, it } from '@jest/globals';

import { ControllerExpectations } from './expectations.js';

// After TestControllerExpectations / TestUIDExpectations (pkg/controller/controller_utils_test.go).
describe('ControllerExpectations', () => {
  it('is satisfied once every expected creation was observed', () => {
    const e = new ControllerExpectations();
    expect(e.satisfied('ns/rs')).toBe(true);
    e.expectCreations('ns/rs', 3);
    for (let i = 0; i < 2; i++) {
      expect(e.satisfied('ns/rs')).toBe(false);
      e.creationObserved('ns/rs');
    }
    expect(e.satisfied('ns/rs')).toBe(false);
    e.creationObserved('ns/rs');
    expect(e.satisfied('ns/rs')).toBe(true);
  });

  it('SetExpectations: creations and deletions at once, satisfied when both are observed', () => {
    const e = new ControllerExpectations();
    e.expect('ns/set', 1, ['ns/set-3']);
    e.creationObserved('ns/set');
    expect(e.satisfied('ns/set')).toBe(false);
    e.deletionObserved('ns/set', 'ns/set-3');
    expect(e.satisfied('ns/set')).toBe(true);
  });

  it('counts only the deletions of the pods it expected to go', () => {
    const e = new ControllerExpectations();
    e.expectDeletions('ns/rs', ['ns/a', 'ns/b']);
    e.deletionObserved('ns/rs', 'ns/other');
    e.deletionObserved('ns/rs', 'ns/a');
    e.deletionObserved('ns/rs', 'ns/a');
    expect(e.satisfied('ns/rs')).toBe(false);
    e.deletionObserved('ns/rs', 'ns/b');
    expect(e.satisfied('ns/rs')).toBe(true);
  });

  it('SetExpectations: creations and deletions at once, satisfied when both are observed', () => {
    const e = new ControllerExpectations();
    e.expect('ns/ds', 1, ['ns/old']);
    e.creationObserved('ns/ds');
    expect(e.satisfied('ns/ds')).toBe(false);
    e.deletionObserved('ns/ds', 'ns/old');
    expect(e.satisfied('ns/ds')).toBe(true);
  });

  it('expires after the TTL, so a lost watch event cannot wedge the controller', () => {
    let t = 0;
    const e = new ControllerExpectations(1000, () => t);
    e.expectCreations('ns/rs', 1);
    t = 1000;
    expect(e.satisfied('ns/rs')).toBe(false);
    t = 1001;
    expect(e.satisfied('ns/rs')).toBe(true);
  });

  it('forgets a deleted controller', () => {
    const e = new ControllerExpectations();
    e.expectCreations('ns/rs', 2);
    e.delete('ns/rs');
    expect(e.satisfied('ns/rs')).toBe(true);
    expect(e.pending('ns/rs')).toBeUndefined();
  });
});
