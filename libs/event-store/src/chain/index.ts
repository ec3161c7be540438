export * from './canonical-json.js';
export * from './event-hash.js';
export * from './json-equal.js';
