export * from './exec-client.js';
export * from './exec-protocol.js';
export * from './exec-responder.js';
