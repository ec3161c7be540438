import { PROXY_READY_LINE } from '../../apps/proxy/src/run-proxy.js';
import { type ComponentProcess, startComponent } from './component-process.js';

/**
 * The proxy in its own process, as `wake up` runs it next to a node agent: its own event loop
 * and CPU, so the bench's clients and backends do not share them. NodePorts on 127.0.0.1 only;
 * no service range (so no blackhole route, which other clusters on this host may share); an
 * instance id of the bench's own so its netfilter chains cannot meet another proxy's.
 */
export function startProxyProcess(o: {
  kubeconfig: string;
  natsUrl: string;
  nodeName: string;
  instanceId: string;
  /** The pods' gateway, where proxy ports listen (default: the docker0 bridge's address). */
  gateway?: string;
}): Promise<ComponentProcess> {
  const config = {
    kubeconfig: o.kubeconfig,
    natsUrl: o.natsUrl,
    nodeName: o.nodeName,
    nodePortAddresses: ['127.0.0.1'],
    instanceId: o.instanceId,
    metricsPort: 0,
    gateway: o.gateway,
  };
  return startComponent('proxy', [JSON.stringify(config)], PROXY_READY_LINE, [], 'bench/lib/proxy-entry.ts');
}
