export * from './human-line.js';
export * from './logger.js';
export * from './nest-logger.js';
