import { describe, expect, it } from '@jest/globals';

import { checkControllerFlags, controllerEnabled } from './controller-manager.module.js';

// IsControllerEnabled (cmd/kube-controller-manager/app/controllermanager.go).
describe('--controllers', () => {
  it('enables all with *, one by name, and disables with -name', () => {
    expect(controllerEnabled('replicaset', ['*'])).toBe(true);
    expect(controllerEnabled('replicaset', ['*', '-replicaset'])).toBe(false);
    expect(controllerEnabled('replicaset', ['-replicaset', '*'])).toBe(false);
    expect(controllerEnabled('replicaset', ['replicationcontroller'])).toBe(false);
    expect(controllerEnabled('replicaset', ['replicaset'])).toBe(true);
  });

  it('refuses a --controllers name it does not know, enabled or disabled', () => {
    expect(() => checkControllerFlags(['*', '-garbage-collector', 'replicaset'])).not.toThrow();
    expect(() => checkControllerFlags(['replicasets'])).toThrow(/replicasets not known; known: replicaset,/);
    expect(() => checkControllerFlags(['-gc'])).toThrow(/-gc not known/);
  });
});
