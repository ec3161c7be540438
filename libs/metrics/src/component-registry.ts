import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * A component's own metrics registry, with the process metrics every Kubernetes component
 * exports too (process_cpu_seconds_total, process_resident_memory_bytes, ...) plus Node's
 * (nodejs_eventloop_lag_seconds, heap sizes). One per component rather than prom-client's
 * global one: tests run several components in one process.
 */
export function componentRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
