export * from './harness-state.js';
export * from './test-database.js';
export * from './thrown-status.js';
