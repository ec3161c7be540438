export * from './builtin-types.js';
export * from './resource-registry.js';
export * from './resource-type.js';
