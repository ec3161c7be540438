import { ipToInt } from '@app/api';
import { type StoredObject } from '@app/event-store';

/** The parts of a core/v1 Service the LoadBalancer status controller reads and writes. */
export type LbService = StoredObject & {
  spec?: { type?: string; loadBalancerClass?: string | null };
  status?: { loadBalancer?: { ingress?: LoadBalancerIngress[] } } & Record<string, unknown>;
};

/** The parts of a core/v1 Node that say where and whether it takes load-balanced traffic. */
export type LbNode = StoredObject & {
  spec?: { unschedulable?: boolean };
  status?: {
    conditions?: { type: string; status: string }[];
    addresses?: { type: string; address: string }[];
  };
};

/** core/v1 LoadBalancerIngress (the fields this controller sets). */
export interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
  ipMode?: string;
}

/** v1.LabelNodeExcludeBalancers: upstream's service controller leaves such nodes out of every load balancer. */
export const EXCLUDE_FROM_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

/**
 * Whether this controller owns the Service's load-balancer status: type LoadBalancer without a
 * loadBalancerClass (k3s pkg/servicelb/controller.go: a class names another implementation,
 * which keeps its own status; a Service of another type has no load balancer at all).
 */
export function handlesService(svc: LbService): boolean {
  return svc.spec?.type === 'LoadBalancer' && !svc.spec.loadBalancerClass;
}

/**
 * The address a node serves load-balanced traffic on, or undefined when it takes none: it must
 * be Ready, schedulable and not labelled out of load balancers (upstream's
 * pkg/controller/service/controller.go nodeIncludedPredicate / nodeReadyPredicate); its
 * ExternalIP when it has one, else its InternalIP (k3s servicelb's getStatus).
 */
export function nodeLbAddress(node: LbNode): string | undefined {
  if (node.spec?.unschedulable) return undefined;
  if (node.metadata.labels?.[EXCLUDE_FROM_LB_LABEL] !== undefined) return undefined;
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') return undefined;
  const addresses = node.status?.addresses ?? [];
  return (
    addresses.find((a) => a.type === 'ExternalIP')?.address ??
    addresses.find((a) => a.type === 'InternalIP')?.address
  );
}

/**
 * The status.loadBalancer.ingress a Service should carry: for a Service this controller handles,
 * one VIP entry per distinct node address, sorted so the status does not flap with list order
 * (k3s sorts them as strings; here IPv4 addresses sort by value, 10.0.0.9 before 10.0.0.10); for any other type none (a Service that stopped being a LoadBalancer loses the
 * addresses it had). Undefined: a LoadBalancer of another class, whose status is not ours.
 */
export function desiredIngress(svc: LbService, nodes: readonly LbNode[]): LoadBalancerIngress[] | undefined {
  if (svc.spec?.type !== 'LoadBalancer') return [];
  if (!handlesService(svc)) return undefined;
  const ips = new Set<string>();
  for (const node of nodes) {
    const ip = nodeLbAddress(node);
    if (ip) ips.add(ip);
  }
  return [...ips].sort(compareIps).map((ip) => ({ ip, ipMode: 'VIP' }));
}

/** Whether the current ingress list already says what `desired` does (order included). */
export function sameIngress(
  current: readonly LoadBalancerIngress[] | undefined,
  desired: readonly LoadBalancerIngress[],
): boolean {
  const cur = current ?? [];
  return (
    cur.length === desired.length &&
    cur.every(
      (c, i) =>
        c.ip === desired[i].ip && c.hostname === desired[i].hostname && c.ipMode === desired[i].ipMode,
    )
  );
}

/** IPv4 addresses by value (10.0.0.9 before 10.0.0.10); anything else after them, as strings. */
function compareIps(a: string, b: string): number {
  const [ka, kb] = [ipToInt(a), ipToInt(b)];
  if (ka !== undefined && kb !== undefined) return ka - kb;
  if (ka !== undefined) return -1;
  if (kb !== undefined) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
