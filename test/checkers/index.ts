export * from './history.js';
export * from './log-checkers.js';
export * from './watch-checker.js';
