import { Counter, type Registry } from '@app/metrics';

import { RCODE } from './codec.js';
import { type Transport } from './upstream.js';

const RCODE_NAMES = new Map<number, string>(Object.entries(RCODE).map(([name, code]) => [code, name]));

/**
 * CoreDNS' own metric names (plugin/metrics and plugin/forward), with the labels Wake can
 * fill, so dashboards made for a kubeadm cluster's DNS read Wake's too.
 */
export class DnsMetrics {
  private readonly requests: Counter<'proto' | 'type'>;
  private readonly responses: Counter<'rcode'>;
  private readonly forwarded: Counter<'rcode'>;

  constructor(registry: Registry) {
    this.requests = new Counter({
      name: 'coredns_dns_requests_total',
      help: 'Counter of DNS requests made per protocol and type.',
      labelNames: ['proto', 'type'],
      registers: [registry],
    });
    this.responses = new Counter({
      name: 'coredns_dns_responses_total',
      help: 'Counter of response status codes.',
      labelNames: ['rcode'],
      registers: [registry],
    });
    this.forwarded = new Counter({
      name: 'coredns_forward_responses_total',
      help: 'Counter of responses received from the upstream resolvers, per rcode.',
      labelNames: ['rcode'],
      registers: [registry],
    });
  }

  answered(type: string, rcode: number, forwarded: boolean, transport: Transport): void {
    const name = RCODE_NAMES.get(rcode) ?? `RCODE${rcode}`;
    this.requests.inc({ proto: transport, type });
    this.responses.inc({ rcode: name });
    if (forwarded) this.forwarded.inc({ rcode: name });
  }
}
