export * from './balancer.js';
export * from './netfilter/host-network.js';
export * from './netfilter/portal-manager.js';
export * from './netfilter/portal-rules.js';
export * from './proxier.js';
export * from './proxy.module.js';
export * from './run-proxy.js';
export * from './service-ports.js';
