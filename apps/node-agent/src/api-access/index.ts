export * from './api-server-forwarder.js';
export * from './bridge-gateway.js';
