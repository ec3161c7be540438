export * from './field-set.js';
export * from './list-types.js';
export * from './managed-fields.js';
export * from './object-fields.js';
export * from './server-side-apply.js';
