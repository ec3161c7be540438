export * from './object-meta.js';
export * from './workloads.js';
export * from './field-validation.js';
export * from './json-duplicates.js';
export * from './schema-validation.js';
export * from './config-data.js';
export * from './object-meta-update.js';
export * from './shape.js';
