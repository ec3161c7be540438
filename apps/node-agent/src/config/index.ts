export * from './container-config.js';
export * from './pod-configurer.js';
export * from './object-source.js';
export * from './token-manager.js';
export * from './service-env.js';
export * from './resources.js';
export * from './expansion.js';
export * from './pod-dns.js';
