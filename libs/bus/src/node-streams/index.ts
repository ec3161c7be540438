export * from './flow.js';
export * from './stream-open.js';
export * from './stream-link.js';
export * from './drained.js';
