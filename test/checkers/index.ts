export * from './history.js';
export * from './log-checkers.js';
