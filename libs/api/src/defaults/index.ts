export * from './defaults.js';
