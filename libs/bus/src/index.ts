export * from './bus-event.js';
export * from './event-stream.js';
export * from './relay.js';
export * from './subjects.js';
export * from './watch.js';
export * from './stream-publisher.js';
export * from './watch-hub.js';
export * from './transport/index.js';
