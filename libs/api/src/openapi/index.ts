export * from './documents.js';
export * from './schema-derivation.js';
export { groupVersionPath } from './operations.js';
