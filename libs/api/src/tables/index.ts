export * from './human-duration.js';
export * from './printer.js';
export * from './printers.js';
export * from './table.js';
export * from './wire.js';
