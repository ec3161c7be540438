import { type EndpointSlice, type IngressServiceBackend, type Service } from './ingress-types.js';

/** One place a backend's requests can go. */
export interface Upstream {
  host: string;
  port: number;
}

/** What resolving a backend found: its ready upstreams, or why there are none. */
export type Resolution = { upstreams: Upstream[] } | { reason: 'no-service' | 'no-port' | 'no-endpoints' };

/**
 * A backend's ready upstreams (ingress-nginx's getEndpointsFromSlices): the Service port the
 * backend names — by number or by name — gives the port name its EndpointSlices list; each
 * endpoint that is ready (an unset condition counts as ready, discovery/v1 semantics) gives its
 * first address with that slice's port number. Addresses appear once even when slices overlap
 * while the EndpointSlice controller moves endpoints between them.
 */
export function resolveBackend(
  backend: IngressServiceBackend,
  service: Service | undefined,
  slices: readonly EndpointSlice[],
): Resolution {
  if (!service) return { reason: 'no-service' };
  const port = service.spec?.ports?.find((p) =>
    backend.port?.name !== undefined && backend.port.name !== ''
      ? p.name === backend.port.name
      : p.port === backend.port?.number,
  );
  if (!port || (port.protocol ?? 'TCP') !== 'TCP') return { reason: 'no-port' };
  const portName = port.name ?? '';
  const seen = new Set<string>();
  const upstreams: Upstream[] = [];
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
    const target = (slice.ports ?? []).find(
      (p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === 'TCP',
    );
    if (target?.port === undefined) continue;
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false) continue;
      const host = ep.addresses[0];
      const key = `${host}:${target.port}`;
      if (!host || seen.has(key)) continue;
      seen.add(key);
      upstreams.push({ host, port: target.port });
    }
  }
  // A stable order, so round robin goes through every endpoint whatever order slices come in.
  upstreams.sort((a, b) => (a.host === b.host ? a.port - b.port : a.host < b.host ? -1 : 1));
  return upstreams.length ? { upstreams } : { reason: 'no-endpoints' };
}

/**
 * Round robin per backend (ingress-nginx's default load-balance algorithm), with the order to
 * try the others in when a connection fails: the next endpoint first, then the one after...
 */
export class RoundRobin {
  private readonly next = new Map<string, number>();

  /** `upstreams` rotated to start at this backend's turn; the turn moves on by one. */
  order(backendKey: string, upstreams: readonly Upstream[]): Upstream[] {
    if (upstreams.length === 0) return [];
    const start = (this.next.get(backendKey) ?? 0) % upstreams.length;
    this.next.set(backendKey, start + 1);
    return [...upstreams.slice(start), ...upstreams.slice(0, start)];
  }
}
