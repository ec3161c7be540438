export * from './node-streams.js';
export * from './pod-containers.js';
export * from './runtime-exec-target.js';
export * from './runtime-log-source.js';
export * from './runtime-port-forward-target.js';
