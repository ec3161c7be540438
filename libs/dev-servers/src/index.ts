export * from './databases.js';
export * from './free-port.js';
export * from './managed-process.js';
export * from './postgres-server.js';
export * from './wait-for.js';
export * from './nats-server.js';
export * from './https-call.js';
