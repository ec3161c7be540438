export * from './object-meta.js';
export * from './workloads.js';
