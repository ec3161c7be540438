import { objectKey } from '@app/client';

import { type Ingress, type IngressBackend, type PathType } from './ingress-types.js';
import { hostMatches, matchLength, pathMatches } from './path-match.js';

/** Where a request goes: an Ingress backend, in the Ingress's namespace. */
export interface RouteTarget {
  namespace: string;
  backend: IngressBackend;
  /** The Ingress (namespace/name) the route came from. */
  ingress: string;
}

interface Route extends RouteTarget {
  type: PathType;
  path: string;
  length: number;
}

/** The routes of one host (or of every host, for rules without one) and their default backend. */
interface HostRoutes {
  routes: Route[];
  defaultBackend?: RouteTarget;
}

/**
 * The routing of every Ingress this controller serves, merged as ingress-nginx merges them into
 * its servers: one set of routes per host; a request's host picks the exact host's routes,
 * else the matching wildcard's, else those of rules without a host (nginx's server_name
 * precedence), and within them the longest matching path wins, Exact before Prefix at equal
 * length, the oldest Ingress first when two say the same thing. A request no path matches
 * goes to the default backend of its host's Ingresses, else to the oldest Ingress's
 * spec.defaultBackend, else nowhere (404).
 */
export class RouteTable {
  private readonly exact = new Map<string, HostRoutes>();
  private readonly wildcard = new Map<string, HostRoutes>();
  private readonly anyHost: HostRoutes = { routes: [] };
  private defaultBackend?: RouteTarget;

  constructor(ingresses: readonly Ingress[]) {
    for (const ing of [...ingresses].sort(oldestFirst)) this.add(ing);
    for (const group of [...this.exact.values(), ...this.wildcard.values(), this.anyHost])
      group.routes.sort((a, b) => b.length - a.length || exactFirst(a.type) - exactFirst(b.type));
  }

  /** The target of a request to `host` (no port, lower case) and `path` (no query), if any. */
  route(host: string, path: string): RouteTarget | undefined {
    const group = this.hostRoutes(host);
    const hit = group?.routes.find((r) => pathMatches(r.type, r.path, path));
    return hit ?? group?.defaultBackend ?? this.defaultBackend;
  }

  private hostRoutes(host: string): HostRoutes | undefined {
    const exact = this.exact.get(host);
    if (exact) return exact;
    for (const [pattern, group] of this.wildcard) if (hostMatches(pattern, host)) return group;
    return this.anyHost.routes.length > 0 ? this.anyHost : undefined;
  }

  private add(ing: Ingress): void {
    const namespace = ing.metadata.namespace ?? '';
    const ingress = objectKey(ing);
    const fallback = ing.spec?.defaultBackend
      ? { namespace, ingress, backend: ing.spec.defaultBackend }
      : undefined;
    this.defaultBackend ??= fallback;
    for (const rule of ing.spec?.rules ?? []) {
      const group = this.group(rule.host?.toLowerCase() ?? '');
      if (fallback) group.defaultBackend ??= fallback;
      for (const p of rule.http?.paths ?? []) {
        const type: PathType = p.pathType === 'Exact' ? 'Exact' : 'Prefix';
        const path = p.path || '/';
        group.routes.push({
          namespace,
          ingress,
          backend: p.backend,
          type,
          path,
          length: matchLength(type, path),
        });
      }
    }
  }

  private group(host: string): HostRoutes {
    if (host === '') return this.anyHost;
    const map = host.startsWith('*.') ? this.wildcard : this.exact;
    let group = map.get(host);
    if (!group) map.set(host, (group = { routes: [] }));
    return group;
  }
}

const exactFirst = (t: PathType) => (t === 'Exact' ? 0 : 1);

/** ingress-nginx's order of Ingresses (routes, TLS hosts): by creation time, then by namespace/name. */
export function oldestFirst(a: Ingress, b: Ingress): number {
  const [ta, tb] = [a.metadata.creationTimestamp ?? '', b.metadata.creationTimestamp ?? ''];
  if (ta !== tb) return ta < tb ? -1 : 1;
  const [ka, kb] = [objectKey(a), objectKey(b)];
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
