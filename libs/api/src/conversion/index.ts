export * from './event-conversion.js';
