export * from './port-forward-client.js';
export * from './port-forward-protocol.js';
export * from './port-forward-responder.js';
