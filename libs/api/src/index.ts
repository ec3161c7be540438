export * from './errors/index.js';
export * from './selectors/index.js';
export * from './discovery/index.js';
export * from './registry/index.js';
export * from './tables/index.js';
export * from './defaults/index.js';
export * from './validation/index.js';
export * from './patch/index.js';
