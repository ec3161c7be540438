import { type StoredObject } from '@app/event-store';

export interface ServicePort {
  name?: string;
  protocol?: string;
  appProtocol?: string;
  port: number;
  targetPort?: number | string;
}

/** The parts of a Service the endpoints controllers read. */
export type Service = StoredObject & {
  spec?: {
    type?: string;
    selector?: Record<string, string> | null;
    ports?: ServicePort[];
    clusterIP?: string;
    ipFamilies?: string[];
    publishNotReadyAddresses?: boolean;
  };
};

export type Node = StoredObject;

export const SERVICES = { group: '', version: 'v1', plural: 'services' };
export const NODES = { group: '', version: 'v1', plural: 'nodes' };
export const ENDPOINTS = { group: '', version: 'v1', plural: 'endpoints' };

/** v1.ClusterIPNone. */
export const CLUSTER_IP_NONE = 'None';
/** v1.IsHeadlessService: set on the Endpoints and EndpointSlices of a Service without a cluster IP. */
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';
/** v1.EndpointsLastChangeTriggerTime. */
export const LAST_CHANGE_TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';
/** v1.LabelTopologyZone. */
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

/** helper.IsServiceIPSet: a cluster IP that is neither empty nor None. */
export function isServiceIPSet(svc: Service): boolean {
  const ip = svc.spec?.clusterIP ?? '';
  return ip !== '' && ip !== CLUSTER_IP_NONE;
}

/**
 * The selector the endpoints controllers act on, or undefined for a Service they leave alone:
 * ExternalName Services and Services without a selector (whose endpoints are written by hand).
 * An empty selector is no selector: it does not survive storage upstream either.
 */
export function managedSelector(svc: Service): Record<string, string> | undefined {
  if (svc.spec?.type === 'ExternalName') return undefined;
  const selector = svc.spec?.selector;
  return selector && Object.keys(selector).length > 0 ? selector : undefined;
}

/** labels.Set(selector).AsSelectorPreValidated().Matches(labels). */
export function selectorMatches(
  selector: Record<string, string>,
  labels: Record<string, string> | undefined,
): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels?.[k] !== v) return false;
  return true;
}

export function isIPv6(ip: string): boolean {
  return ip.includes(':');
}
