export * from './status.js';
export * from './status-error.js';
