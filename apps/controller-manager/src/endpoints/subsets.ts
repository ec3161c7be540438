/** v1.ObjectReference as endpoints carry it (a pod). */
export interface ObjectReference {
  kind: string;
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
}

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef?: ObjectReference;
}

export interface EndpointPort {
  name?: string;
  port: number;
  protocol?: string;
  appProtocol?: string;
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

/** v1.EndpointsOverCapacity and its one value. */
export const OVER_CAPACITY = 'endpoints.kubernetes.io/over-capacity';
export const TRUNCATED = 'truncated';
/** maxCapacity (pkg/controller/endpoint/endpoints_controller.go): addresses an Endpoints keeps at most. */
export const MAX_ENDPOINTS_CAPACITY = 1000;

/** JSON with sorted keys and without empty arrays or undefined: two equal subsets give one string. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined && !(Array.isArray(x) && x.length === 0))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

const portKey = (p: EndpointPort) => canonical(p);
const addressKey = (a: EndpointAddress) => `${a.ip}\0${a.targetRef?.uid ?? ''}`;

/** addrsByIPAndUID: by IP, then by the target's UID. */
function compareAddresses(a: EndpointAddress, b: EndpointAddress): number {
  if (a.ip !== b.ip) return a.ip < b.ip ? -1 : 1;
  const [ua, ub] = [a.targetRef?.uid ?? '', b.targetRef?.uid ?? ''];
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

const byString =
  <T>(key: (x: T) => string) =>
  (a: T, b: T) => {
    const [ka, kb] = [key(a), key(b)];
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  };

/**
 * endpoints.SortSubsets (pkg/api/v1/endpoints/util.go): addresses by IP and UID, ports and
 * subsets in a fixed order. Upstream orders the latter by a hash of their contents; any total
 * order serves, since only a stable result matters (it is what the no-op check compares).
 */
export function sortSubsets(subsets: EndpointSubset[]): EndpointSubset[] {
  for (const s of subsets) {
    s.addresses?.sort(compareAddresses);
    s.notReadyAddresses?.sort(compareAddresses);
    s.ports?.sort(byString(portKey));
  }
  return subsets.sort(byString(canonical));
}

/**
 * endpoints.RepackSubsets: the N-to-M form the API wants. Each port is mapped to the addresses
 * offering it (an address not ready on any subset is not ready on that port), then the ports
 * with the same addresses and readiness are grouped into one subset. Subsets without ports
 * (a headless Service without ports) keep their addresses under a sentinel port.
 */
export function repackSubsets(subsets: readonly EndpointSubset[]): EndpointSubset[] {
  const allAddresses = new Map<string, EndpointAddress>();
  // port key → (port, address key → ready)
  const byPort = new Map<string, { port?: EndpointPort; ready: Map<string, boolean> }>();
  const mapAddress = (addr: EndpointAddress, port: EndpointPort | undefined, ready: boolean) => {
    const key = addressKey(addr);
    if (!allAddresses.has(key)) allAddresses.set(key, { ...addr });
    const pk = port ? portKey(port) : '';
    let entry = byPort.get(pk);
    if (!entry) byPort.set(pk, (entry = { port, ready: new Map() }));
    // not ready always trumps ready
    if (entry.ready.get(key) !== false) entry.ready.set(key, ready);
  };
  for (const s of subsets) {
    const ports: (EndpointPort | undefined)[] = s.ports?.length ? s.ports : [undefined];
    for (const port of ports) {
      for (const a of s.addresses ?? []) mapAddress(a, port, true);
      for (const a of s.notReadyAddresses ?? []) mapAddress(a, port, false);
    }
  }
  // address set (with readiness) → the ports offered by exactly that set
  const bySet = new Map<string, { ready: Map<string, boolean>; ports: EndpointPort[] }>();
  for (const { port, ready } of byPort.values()) {
    const setKey = [...ready.entries()]
      .map(([k, r]) => `${k}\0${r}`)
      .sort()
      .join('\n');
    let entry = bySet.get(setKey);
    if (!entry) bySet.set(setKey, (entry = { ready, ports: [] }));
    if (port) entry.ports.push(port);
  }
  const out: EndpointSubset[] = [];
  for (const { ready, ports } of bySet.values()) {
    const subset: EndpointSubset = {};
    const readyAddrs = [...ready].filter(([, r]) => r).map(([k]) => allAddresses.get(k)!);
    const notReady = [...ready].filter(([, r]) => !r).map(([k]) => allAddresses.get(k)!);
    if (readyAddrs.length) subset.addresses = readyAddrs;
    if (notReady.length) subset.notReadyAddresses = notReady;
    if (ports.length) subset.ports = ports;
    out.push(subset);
  }
  return sortSubsets(out);
}

/**
 * endpointSubsetsEqualIgnoreResourceVersion: equal once the targets' resourceVersions are
 * dropped, so that a pod update that does not matter (an annotation) writes nothing.
 */
export function subsetsEqualIgnoringResourceVersion(
  a: readonly EndpointSubset[] | undefined,
  b: readonly EndpointSubset[] | undefined,
): boolean {
  const strip = (subsets: readonly EndpointSubset[] | undefined) =>
    canonical(
      (subsets ?? []).map((s) => ({
        ...s,
        addresses: s.addresses?.map(withoutResourceVersion),
        notReadyAddresses: s.notReadyAddresses?.map(withoutResourceVersion),
      })),
    );
  return strip(a) === strip(b);
}

function withoutResourceVersion(a: EndpointAddress): EndpointAddress {
  if (!a.targetRef?.resourceVersion) return a;
  const { resourceVersion: _ignored, ...targetRef } = a.targetRef;
  return { ...a, targetRef };
}

const countAddresses = (subsets: readonly EndpointSubset[] | undefined) =>
  (subsets ?? []).reduce((n, s) => n + (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0), 0);

/**
 * truncateEndpoints: at most MAX_ENDPOINTS_CAPACITY addresses, ready ones kept first. Over
 * capacity with ready addresses alone, every not-ready one goes and each subset keeps a share
 * of ready ones proportional to its size (rounded up, so the last may get fewer); otherwise
 * only the not-ready ones are cut, the same way. Returns the subsets and whether it cut.
 */
export function truncateSubsets(
  subsets: readonly EndpointSubset[],
  max = MAX_ENDPOINTS_CAPACITY,
): { subsets: EndpointSubset[]; truncated: boolean } {
  let totalReady = 0;
  let totalNotReady = 0;
  for (const s of subsets) {
    totalReady += s.addresses?.length ?? 0;
    totalNotReady += s.notReadyAddresses?.length ?? 0;
  }
  if (totalReady + totalNotReady <= max) return { subsets: [...subsets], truncated: false };
  const truncateReady = totalReady > max;
  const room = truncateReady ? max : max - totalReady;
  const total = truncateReady ? totalReady : totalNotReady;
  let canBeAdded = room;
  const out = subsets.map((s) => {
    const inSubset = (truncateReady ? s.addresses?.length : s.notReadyAddresses?.length) ?? 0;
    const toBeAdded = Math.min(Math.ceil((inSubset / total) * room), canBeAdded);
    if (truncateReady) {
      const addresses = (s.addresses ?? []).slice(0, toBeAdded);
      canBeAdded -= addresses.length;
      return { ...s, addresses, notReadyAddresses: [] };
    }
    const notReadyAddresses = (s.notReadyAddresses ?? []).slice(0, toBeAdded);
    canBeAdded -= notReadyAddresses.length;
    return { ...s, notReadyAddresses };
  });
  // A subset cut to no address at all would be refused by validation ("must specify addresses
  // or notReadyAddresses"): it goes whole.
  const kept = out.map(dropEmpty).filter((s) => s.addresses || s.notReadyAddresses);
  return { subsets: kept, truncated: true };
}

function dropEmpty(s: EndpointSubset): EndpointSubset {
  const out: EndpointSubset = {};
  if (s.addresses?.length) out.addresses = s.addresses;
  if (s.notReadyAddresses?.length) out.notReadyAddresses = s.notReadyAddresses;
  if (s.ports?.length) out.ports = s.ports;
  return out;
}

/**
 * capacityAnnotationSetCorrectly: current subsets over capacity are never right (they must be
 * truncated), and under it the over-capacity annotation must be absent.
 */
export function capacityAnnotationSetCorrectly(
  annotations: Record<string, string> | undefined,
  subsets: readonly EndpointSubset[] | undefined,
): boolean {
  if (countAddresses(subsets) > MAX_ENDPOINTS_CAPACITY) return false;
  return annotations?.[OVER_CAPACITY] === undefined;
}
