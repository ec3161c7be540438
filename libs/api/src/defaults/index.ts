export * from './defaults.js';
export * from './job-selector.js';
