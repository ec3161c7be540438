export * from './jetstream-work.js';
export * from './terminal-work-error.js';
export * from './work-client.js';
export * from './work-context.js';
export * from './work-error-filter.js';
export * from './work-server.js';
