import { type ResourceRegistry, type ResourceType, StatusError } from '@app/api';
import { SYSTEM_ACTOR } from '@app/event-store';

import { type ObjectService } from '../objects/object-service.js';

export const KUBE_DNS_NAMESPACE = 'kube-system';
export const KUBE_DNS_NAME = 'kube-dns';

/**
 * The `kube-dns` Service in kube-system, as kubeadm's CoreDNS addon writes it
 * (cmd/kubeadm/app/phases/addons/dns/manifests.go `KubeDNSService`): the address pods get
 * as their nameserver (the kubelet's --cluster-dns). It has no selector: no DNS pods run;
 * the proxy on each node sends its traffic to the cluster DNS server it hosts.
 *
 * Created only when missing: an operator's changes to it are theirs to keep.
 * Returns whether it created the Service.
 */
export async function ensureKubeDnsService(
  objects: ObjectService,
  registry: ResourceRegistry,
  clusterIp: string,
): Promise<boolean> {
  const services = registry.get('', 'v1', 'services');
  if (await exists(objects, services)) return false;
  try {
    await objects.create(
      services,
      KUBE_DNS_NAMESPACE,
      {
        metadata: {
          name: KUBE_DNS_NAME,
          namespace: KUBE_DNS_NAMESPACE,
          labels: {
            'k8s-app': 'kube-dns',
            'kubernetes.io/cluster-service': 'true',
            'kubernetes.io/name': 'CoreDNS',
          },
          annotations: { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true' },
        },
        spec: {
          type: 'ClusterIP',
          clusterIP: clusterIp,
          ports: [
            { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
            { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
            { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
          ],
          sessionAffinity: 'None',
        },
      },
      { actor: SYSTEM_ACTOR, userAgent: 'wake-apiserver/kube-dns-service' },
    );
    return true;
  } catch (e) {
    // Another API server created it meanwhile: its create claims the address first, so ours
    // fails on the address (Invalid) before the name (AlreadyExists).
    if (await exists(objects, services)) return false;
    throw new Error(
      `bootstrap: creating ${KUBE_DNS_NAMESPACE}/${KUBE_DNS_NAME} at ${clusterIp}: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
}

async function exists(objects: ObjectService, services: ResourceType): Promise<boolean> {
  try {
    await objects.get(services, KUBE_DNS_NAMESPACE, KUBE_DNS_NAME);
    return true;
  } catch (e) {
    if (e instanceof StatusError && e.reason === 'NotFound') return false;
    throw e;
  }
}
