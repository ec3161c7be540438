export * from './queue/rate-limiter.js';
export * from './queue/work-queue.js';
export * from './cache/object-cache.js';
export * from './cache/indexers.js';
export * from './api/api-client.js';
export * from './informer/informer.js';
export * from './leader/leader-elector.js';
export * from './api/kubeconfig.js';
