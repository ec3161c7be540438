export * from './docker-runtime.js';
export * from './log-frames.js';
export * from './naming.js';
