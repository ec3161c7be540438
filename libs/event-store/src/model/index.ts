export * from './audit-context.js';
export * from './object-key.js';
export * from './stored-event.js';
export * from './stored-object.js';
