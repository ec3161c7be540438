import { type ComponentProcess, startComponent } from './component-process.js';

/** What `wake proxy` prints once its listeners and rules follow the cluster. */
const PROXY_READY_LINE = 'proxy ready';

/**
 * `wake proxy` in its own process, as `wake up` runs it next to a node agent: its own event loop
 * and CPU, so the bench's clients and backends do not share them. NodePorts on 127.0.0.1 only;
 * an instance id of the bench's own so its netfilter chains cannot meet another proxy's.
 */
export function startProxyProcess(o: {
  kubeconfig: string;
  natsUrl: string;
  nodeName: string;
  instanceId: string;
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
      '--instance-id',
      o.instanceId,
      '--metrics-port',
      '0',
    ],
    PROXY_READY_LINE,
  );
}
