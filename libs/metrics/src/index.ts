export * from './histogram.js';
export * from './counter.js';
export * from './metrics-server.js';
