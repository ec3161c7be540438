export * from './log-client.js';
export * from './log-protocol.js';
export * from './log-responder.js';
