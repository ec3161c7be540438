export * from './clock.js';
export * from './handlers/exec-probe.js';
export * from './kubelet-probe-manager.js';
export * from './probe-manager.js';
export * from './probe-spec.js';
export * from './prober.js';
