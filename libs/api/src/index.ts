export * from './errors/index.js';
export * from './selectors/index.js';
