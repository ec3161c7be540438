import { type ObjectCache, selectorCandidates } from '@app/client';

import { isPodReady, type Pod } from '../replicaset/pod-types.js';
import { managedSelector, selectorMatches, type Service, type ServicePort } from './service-types.js';

/** The pod's IPs, podIPs first and podIP as the fallback of an older status. */
export function podIPs(pod: Pod): string[] {
  const ips = (pod.status?.podIPs ?? []).map((p) => p.ip).filter(Boolean);
  if (ips.length > 0) return ips;
  return pod.status?.podIP ? [pod.status.podIP] : [];
}

/** podutil.IsPodTerminal: Succeeded or Failed. */
export function isPodTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/**
 * endpointutil.ShouldPodBeInEndpoints (staging/src/k8s.io/endpointslice/util/controller_utils.go):
 * not terminal, has an IP, and — unless terminating pods are wanted — not being deleted.
 */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (isPodTerminal(pod)) return false;
  if (podIPs(pod).length === 0) return false;
  if (!includeTerminating && pod.metadata.deletionTimestamp) return false;
  return true;
}

/** endpointutil.ShouldSetHostname: the pod names itself a member of this (headless) Service's subdomain. */
export function shouldSetHostname(pod: Pod, svc: Service): boolean {
  return (
    !!pod.spec?.hostname &&
    pod.spec.subdomain === svc.metadata.name &&
    svc.metadata.namespace === pod.metadata.namespace
  );
}

/**
 * podutil.FindPort (pkg/api/v1/pod/util.go): a numeric targetPort as it is; a named one is the
 * containerPort of that name and protocol in the pod's containers, or its sidecars
 * (restartPolicy: Always init containers). Undefined: this pod does not serve the port.
 */
export function findPort(pod: Pod, port: ServicePort): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = port.protocol ?? 'TCP';
  const sidecars = (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  for (const c of [...(pod.spec?.containers ?? []), ...sidecars])
    for (const p of c.ports ?? [])
      if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  return undefined;
}

/**
 * endpointutil.podEndpointsChanged: whether an update matters to endpoints (`changed`: deletion,
 * readiness, IPs — plus turning terminal, which drops the pod) and whether it may move the pod
 * between Services (`labelsChanged`: labels, hostname or subdomain).
 */
export function podEndpointsChanged(old: Pod, cur: Pod): { changed: boolean; labelsChanged: boolean } {
  const labelsChanged =
    !sameMap(old.metadata.labels, cur.metadata.labels) ||
    old.spec?.hostname !== cur.spec?.hostname ||
    old.spec?.subdomain !== cur.spec?.subdomain;
  const changed =
    old.metadata.deletionTimestamp !== cur.metadata.deletionTimestamp ||
    isPodReady(old) !== isPodReady(cur) ||
    isPodTerminal(old) !== isPodTerminal(cur) ||
    podIPs(old).join() !== podIPs(cur).join();
  return { changed, labelsChanged };
}

function sameMap(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const [ka, kb] = [Object.keys(a ?? {}), Object.keys(b ?? {})];
  return ka.length === kb.length && ka.every((k) => a?.[k] === b?.[k]);
}

/**
 * The pods of `namespace` a Service's selector picks, looked up through the cache's label index
 * by the selector's first term when it has one (not by scanning the namespace).
 */
export function selectedPods(
  pods: ObjectCache<Pod>,
  namespace: string,
  selector: Readonly<Record<string, string>>,
): Pod[] {
  return selectorCandidates(pods, namespace, Object.entries(selector)[0]).filter((p) =>
    selectorMatches(selector, p.metadata.labels),
  );
}

/** ServiceSelectorCache.GetPodServiceMemberships: the keys of the Services whose selector matches the pod. */
export function podServiceMemberships(services: readonly Service[], pod: Pod): Set<string> {
  const keys = new Set<string>();
  for (const svc of services) {
    const selector = managedSelector(svc);
    if (selector && selectorMatches(selector, pod.metadata.labels))
      keys.add(`${svc.metadata.namespace}/${svc.metadata.name}`);
  }
  return keys;
}

/**
 * endpointutil.GetServicesToUpdateOnPodChange: nothing when nothing relevant changed; the
 * current Services when only the pod's state changed; when its labels changed, the Services it
 * left or joined — or, if its state changed too, every Service of before and after.
 */
export function servicesToUpdateOnPodChange(services: readonly Service[], old: Pod, cur: Pod): Set<string> {
  if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return new Set();
  const { changed, labelsChanged } = podEndpointsChanged(old, cur);
  if (!changed && !labelsChanged) return new Set();
  const now = podServiceMemberships(services, cur);
  if (!labelsChanged) return now;
  const before = podServiceMemberships(services, old);
  if (changed) return new Set([...before, ...now]);
  // determineNeededServiceUpdates: only the symmetric difference needs a look.
  const out = new Set<string>();
  for (const k of before) if (!now.has(k)) out.add(k);
  for (const k of now) if (!before.has(k)) out.add(k);
  return out;
}
