import { describe, expect, it } from '@jest/globals';

import { controllerEnabled } from './controller-manager.module.js';

// IsControllerEnabled (cmd/kube-controller-manager/app/controllermanager.go).
describe('--controllers', () => {
  it('enables all with *, one by name, and disables with -name', () => {
    expect(controllerEnabled('replicaset', ['*'])).toBe(true);
    expect(controllerEnabled('replicaset', ['*', '-replicaset'])).toBe(false);
    expect(controllerEnabled('replicaset', ['-replicaset', '*'])).toBe(false);
    expect(controllerEnabled('replicaset', ['replicationcontroller'])).toBe(false);
    expect(controllerEnabled('replicaset', ['replicaset'])).toBe(true);
  });
});
