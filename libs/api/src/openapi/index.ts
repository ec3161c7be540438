export * from './documents.js';
export * from './schema-derivation.js';
export { groupVersionPath, type KindAddress } from './operations.js';
