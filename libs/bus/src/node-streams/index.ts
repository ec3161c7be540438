export * from './flow.js';
export * from './stream-open.js';
