export * from './docker-runtime.js';
export * from './image-list.js';
export * from './log-frames.js';
export * from './naming.js';
