export * from './discovery-documents.js';
