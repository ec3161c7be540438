export * from './node-facts.js';
export * from './node-heartbeat.js';
export * from './node-lease.js';
export * from './node-status.js';
export * from './node-status-reporter.js';
