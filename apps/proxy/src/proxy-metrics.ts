import { componentRegistry, Counter, Gauge, Histogram, type Registry } from '@app/metrics';

import { type ProxySocketEvents } from './sockets/proxy-socket.js';

/** kube-proxy's metric names where they exist (pkg/proxy/metrics), Wake's own for the socket side. */
export class ProxyMetrics {
  readonly registry: Registry = componentRegistry();
  readonly syncDuration = new Histogram({
    name: 'kubeproxy_sync_proxy_rules_duration_seconds',
    help: 'How long one sync of listeners, balancer and iptables rules took.',
    buckets: [
      0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192,
    ],
    registers: [this.registry],
  });
  readonly rules = new Gauge({
    name: 'kubeproxy_sync_proxy_rules_iptables_total',
    help: 'Rules in the proxy instance’s own iptables chains.',
    labelNames: ['table'],
    registers: [this.registry],
  });
  readonly servicePorts = new Gauge({
    name: 'wake_proxy_service_ports',
    help: 'Service ports being proxied.',
    registers: [this.registry],
  });
  readonly connections = new Counter({
    name: 'wake_proxy_connections_total',
    help: 'TCP connections and UDP flows accepted, by outcome.',
    labelNames: ['protocol', 'result'],
    registers: [this.registry],
  });
  readonly active = new Gauge({
    name: 'wake_proxy_active_connections',
    help: 'TCP connections and UDP flows open now.',
    labelNames: ['protocol'],
    registers: [this.registry],
  });

  /** The proxy sockets' hooks, feeding these metrics. */
  socketEvents(onTrouble: (what: string, e: Error) => void): ProxySocketEvents {
    return {
      connection: (protocol, result) => this.connections.inc({ protocol, result }),
      active: (protocol, delta) => this.active.inc({ protocol }, delta),
      onTrouble,
    };
  }
}
