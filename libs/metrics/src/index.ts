export { Counter, Gauge, Histogram, Registry } from 'prom-client';
export * from './buckets.js';
export * from './component-registry.js';
export * from './metrics-server.js';
export * from './work-queue-metrics.js';
export * from './tally-histogram.js';
export * from './scrape.js';
