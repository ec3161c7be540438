import { type StoredObject } from '@app/event-store';

import { isPodReady, type Pod } from '../replicaset/pod-types.js';
import { findPort, podIPs, shouldPodBeInEndpoints, shouldSetHostname } from './endpoint-pods.js';
import {
  CLUSTER_IP_NONE,
  HEADLESS_LABEL,
  isIPv6,
  isServiceIPSet,
  LAST_CHANGE_TRIGGER_TIME,
  type Service,
  type ServicePort,
} from './service-types.js';
import {
  capacityAnnotationSetCorrectly,
  type EndpointAddress,
  type EndpointPort,
  type EndpointSubset,
  OVER_CAPACITY,
  repackSubsets,
  subsetsEqualIgnoringResourceVersion,
  TRUNCATED,
  truncateSubsets,
} from './subsets.js';
import { formatRfc3339Nano } from './trigger-time-tracker.js';

export type Endpoints = StoredObject & { subsets?: EndpointSubset[] };

/**
 * podToEndpointAddressForService: the pod's IP of the Service's family (its first ipFamily;
 * else its cluster IP's; a headless Service without families takes the pod's primary IP's),
 * with the node and the pod as target. Undefined when the pod has no IP of that family.
 */
export function podToEndpointAddress(svc: Service, pod: Pod): EndpointAddress | undefined {
  const ips = podIPs(pod);
  let v6: boolean;
  if (svc.spec?.ipFamilies?.length) v6 = svc.spec.ipFamilies[0] === 'IPv6';
  else if (isServiceIPSet(svc)) v6 = isIPv6(svc.spec?.clusterIP ?? '');
  else v6 = isIPv6(ips[0] ?? '');
  const ip = ips.find((i) => isIPv6(i) === v6);
  if (!ip) return undefined;
  return {
    ip,
    nodeName: pod.spec?.nodeName,
    targetRef: {
      kind: 'Pod',
      namespace: pod.metadata.namespace,
      name: pod.metadata.name,
      uid: pod.metadata.uid,
    },
  };
}

/** endpointPortFromServicePort. */
function endpointPort(sp: ServicePort, portNum: number): EndpointPort {
  const out: EndpointPort = { port: portNum, protocol: sp.protocol ?? 'TCP' };
  if (sp.name) out.name = sp.name;
  if (sp.appProtocol) out.appProtocol = sp.appProtocol;
  return out;
}

/**
 * The subsets of syncService (pkg/controller/endpoint/endpoints_controller.go): each pod that
 * should be in endpoints (terminating ones only with publishNotReadyAddresses) gives one
 * address per Service port it serves — ready, or not ready unless publishNotReadyAddresses —
 * with its hostname when it names this Service as subdomain; a headless Service without ports
 * gets its addresses without ports. Then repacked.
 */
export function desiredSubsets(svc: Service, pods: readonly Pod[]): EndpointSubset[] {
  const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
  const subsets: EndpointSubset[] = [];
  const add = (pod: Pod, address: EndpointAddress, port: EndpointPort | undefined) => {
    const ports = port ? [port] : [];
    if (publishNotReady || isPodReady(pod)) subsets.push({ addresses: [address], ports });
    else subsets.push({ notReadyAddresses: [address], ports });
  };
  const spec = svc.spec ?? {};
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, publishNotReady)) continue;
    const address = podToEndpointAddress(svc, pod);
    if (!address) continue;
    if (shouldSetHostname(pod, svc)) address.hostname = pod.spec?.hostname;
    const ports = spec.ports ?? [];
    if (ports.length === 0) {
      if (spec.clusterIP === CLUSTER_IP_NONE) add(pod, address, undefined);
      continue;
    }
    for (const p of ports) {
      const portNum = findPort(pod, p);
      if (portNum !== undefined) add(pod, address, endpointPort(p, portNum));
    }
  }
  return repackSubsets(subsets);
}

const sameLabels = (a: Record<string, string> | undefined, b: Record<string, string> | undefined) => {
  const [ka, kb] = [Object.keys(a ?? {}), Object.keys(b ?? {})];
  return ka.length === kb.length && ka.every((k) => a?.[k] === b?.[k]);
};

/**
 * The rest of syncService: the Endpoints to write, or undefined when the current one already
 * says it all (same subsets ignoring targets' resourceVersions, the Service's labels, the
 * capacity annotation right). Labels are the Service's plus the headless label when it has no
 * cluster IP; the trigger-time annotation is set or cleared; over 1000 addresses it is
 * truncated and annotated over-capacity. Over capacity, the truncated current never equals
 * the full desired subsets, so it is rewritten on every sync, as upstream.
 */
export function endpointsToWrite(
  svc: Service,
  current: Endpoints | undefined,
  subsets: EndpointSubset[],
  triggerTime: number | undefined,
): Endpoints | undefined {
  if (current) {
    const { [HEADLESS_LABEL]: _headless, ...compareLabels } = current.metadata.labels ?? {};
    if (
      subsetsEqualIgnoringResourceVersion(current.subsets, subsets) &&
      sameLabels(compareLabels, svc.metadata.labels) &&
      capacityAnnotationSetCorrectly(current.metadata.annotations, current.subsets)
    )
      return undefined;
  }
  const annotations = { ...(current?.metadata.annotations ?? {}) };
  if (triggerTime !== undefined) annotations[LAST_CHANGE_TRIGGER_TIME] = formatRfc3339Nano(triggerTime);
  else delete annotations[LAST_CHANGE_TRIGGER_TIME];
  const { subsets: kept, truncated } = truncateSubsets(subsets);
  if (truncated) annotations[OVER_CAPACITY] = TRUNCATED;
  else delete annotations[OVER_CAPACITY];
  const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
  if (isServiceIPSet(svc)) delete labels[HEADLESS_LABEL];
  else labels[HEADLESS_LABEL] = '';
  const base: Endpoints = current ?? {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: svc.metadata.name, namespace: svc.metadata.namespace },
  };
  return { ...base, metadata: { ...base.metadata, labels, annotations }, subsets: kept };
}
