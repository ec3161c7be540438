import { findPort, podIPs, shouldSetHostname } from '../endpoints/endpoint-pods.js';
import {
  CLUSTER_IP_NONE,
  HEADLESS_LABEL,
  isIPv6,
  isServiceIPSet,
  type Node,
  type Service,
  ZONE_LABEL,
} from '../endpoints/service-types.js';
import { isPodReady, type Pod } from '../replicaset/pod-types.js';
import {
  CONTROLLER_NAME,
  type Endpoint,
  type EndpointSlice,
  MANAGED_BY_LABEL,
  SERVICE_NAME_LABEL,
  type SlicePort,
} from './slice-types.js';

export type AddressType = 'IPv4' | 'IPv6';

/**
 * getAddressTypesForService (staging/src/k8s.io/endpointslice/utils.go): the Service's
 * ipFamilies; without them, its cluster IP's family, or both for a headless Service.
 */
export function addressTypesForService(svc: Service): AddressType[] {
  const families = (svc.spec?.ipFamilies ?? []).filter((f): f is AddressType => f === 'IPv4' || f === 'IPv6');
  if (families.length > 0) return [...new Set(families)];
  if (isServiceIPSet(svc)) return [isIPv6(svc.spec?.clusterIP ?? '') ? 'IPv6' : 'IPv4'];
  return ['IPv4', 'IPv6'];
}

/**
 * podToEndpoint: serving is the pod's readiness, terminating its deletion; ready is serving
 * and not terminating, or forced by publishNotReadyAddresses. The node's zone label is the
 * endpoint's zone.
 */
export function podToEndpoint(
  pod: Pod,
  node: Node | undefined,
  svc: Service,
  addressType: AddressType,
): Endpoint {
  const serving = isPodReady(pod);
  const terminating = !!pod.metadata.deletionTimestamp;
  const ready = svc.spec?.publishNotReadyAddresses === true || (serving && !terminating);
  const endpoint: Endpoint = {
    addresses: podIPs(pod).filter((ip) => isIPv6(ip) === (addressType === 'IPv6')),
    conditions: { ready, serving, terminating },
    targetRef: {
      kind: 'Pod',
      namespace: pod.metadata.namespace,
      name: pod.metadata.name,
      uid: pod.metadata.uid,
    },
  };
  if (pod.spec?.nodeName) endpoint.nodeName = pod.spec.nodeName;
  const zone = node?.metadata.labels?.[ZONE_LABEL];
  if (zone) endpoint.zone = zone;
  if (shouldSetHostname(pod, svc)) endpoint.hostname = pod.spec?.hostname;
  return endpoint;
}

/**
 * getEndpointPorts: each Service port the pod serves, its number resolved per pod (a named
 * targetPort is that pod's containerPort); none for a headless Service without ports.
 */
export function endpointPorts(svc: Service, pod: Pod): SlicePort[] {
  const ports = svc.spec?.ports ?? [];
  if (ports.length === 0 && svc.spec?.clusterIP === CLUSTER_IP_NONE) return [];
  const out: SlicePort[] = [];
  for (const p of ports) {
    const port = findPort(pod, p);
    if (port === undefined) continue;
    const ep: SlicePort = { name: p.name ?? '', protocol: p.protocol ?? 'TCP', port };
    if (p.appProtocol) ep.appProtocol = p.appProtocol;
    out.push(ep);
  }
  return out;
}

const isReservedLabel = (k: string) =>
  k === SERVICE_NAME_LABEL || k === MANAGED_BY_LABEL || k === HEADLESS_LABEL;

/**
 * setEndpointSliceLabels: the Service's labels (less the reserved ones) plus the service-name,
 * managed-by and — without a cluster IP — headless labels; `changed` when the slice's own
 * non-reserved labels differ from the Service's.
 */
export function sliceLabels(
  slice: EndpointSlice | undefined,
  svc: Service,
): { labels: Record<string, string>; changed: boolean } {
  const current = Object.entries(slice?.metadata.labels ?? {}).filter(([k]) => !isReservedLabel(k));
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.metadata.labels ?? {})) if (!isReservedLabel(k)) labels[k] = v;
  const changed =
    current.some(([k]) => !(k in labels)) ||
    Object.entries(labels).some(([k, v]) => !current.some(([ck, cv]) => ck === k && cv === v));
  if (!isServiceIPSet(svc)) labels[HEADLESS_LABEL] = '';
  labels[SERVICE_NAME_LABEL] = svc.metadata.name ?? '';
  labels[MANAGED_BY_LABEL] = CONTROLLER_NAME;
  return { labels, changed };
}

/** newEndpointSlice: generateName `<service>-`, owned (as controller) by the Service. */
export function newEndpointSlice(svc: Service, ports: SlicePort[], addressType: AddressType): EndpointSlice {
  const slice: EndpointSlice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      namespace: svc.metadata.namespace,
      generateName: slicePrefix(svc.metadata.name ?? ''),
      ownerReferences: [
        {
          apiVersion: 'v1',
          kind: 'Service',
          name: svc.metadata.name ?? '',
          uid: svc.metadata.uid ?? '',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    addressType,
    ports,
    endpoints: [],
  };
  slice.metadata.labels = sliceLabels(slice, svc).labels;
  return slice;
}

/** getEndpointSlicePrefix: `<service>-`, unless that is no valid name prefix (too long). */
function slicePrefix(name: string): string {
  // ValidateEndpointSliceName(prefix, true): a DNS subdomain of at most 253 characters.
  return name.length + 1 <= 253 ? `${name}-` : name;
}

/** ownedBy: the slice has an owner reference to this very Service. */
export function ownedBy(slice: EndpointSlice, svc: Service): boolean {
  return (slice.metadata.ownerReferences ?? []).some(
    (o) => o.uid === svc.metadata.uid && o.kind === 'Service' && o.apiVersion === 'v1',
  );
}
