import { PROXY_READY_LINE } from '../../apps/proxy/src/run-proxy.js';
import { type ComponentProcess, startComponent } from './component-process.js';

/**
 * `wake proxy` in its own process, as `wake up` runs it next to a node agent: its own event
 * loop and CPU, so the bench's clients and backends do not share them. NodePorts on 127.0.0.1
 * only; no service range, so nothing refused there (other clusters on this host may share the
 * default range, and this proxy's REJECT rules would refuse their ClusterIPs); an instance
 * id of the bench's own, so its netfilter chains cannot meet another proxy's.
 */
export function startProxyProcess(o: {
  kubeconfig: string;
  natsUrl: string;
  nodeName: string;
  instanceId: string;
  /** The pods' gateway, where proxy ports listen (default: the docker0 bridge's address). */
  gateway?: string;
  /** --proxy-mode (default: the proxy's own, iptables). */
  mode?: 'iptables' | 'userspace';
}): Promise<ComponentProcess> {
  return startComponent(
    'proxy',
    [
      'proxy',
      '--kubeconfig',
      o.kubeconfig,
      '--nats-url',
      o.natsUrl,
      '--node-name',
      o.nodeName,
      '--nodeport-addresses',
      '127.0.0.1',
      '--service-cluster-ip-range',
      'none',
      '--instance-id',
      o.instanceId,
      '--metrics-port',
      '0',
      ...(o.gateway ? ['--gateway', o.gateway] : []),
      ...(o.mode ? ['--proxy-mode', o.mode] : []),
    ],
    PROXY_READY_LINE,
  );
}
