import { type Endpoint } from './service-ports.js';

interface Affinity {
  endpoint: Endpoint;
  lastUsedMs: number;
}

interface BalancerState {
  endpoints: Endpoint[];
  index: number;
  /** sessionAffinity ClientIP: the TTL in seconds; absent: no affinity. */
  affinityTimeoutSeconds?: number;
  affinity: Map<string, Affinity>;
}

export interface BalancerOptions {
  /** Shuffle a service port's endpoints when they change, as upstream does (default true). */
  shuffle?: boolean;
  now?: () => number;
}

const endpointId = (e: Endpoint) => `${e.ip}:${e.port}`;

/**
 * Round robin over each service port's endpoints with ClientIP session affinity: upstream's
 * LoadBalancerRR (pkg/proxy/userspace/roundrobin.go). A changed endpoint set is shuffled and
 * the index restarts; affinities to endpoints that went away are forgotten.
 */
export class RoundRobinBalancer {
  private readonly states = new Map<string, BalancerState>();
  private readonly now: () => number;

  constructor(private readonly o: BalancerOptions = {}) {
    this.now = o.now ?? Date.now;
  }

  /** Sets a service port's endpoints and affinity (OnEndpointsUpdate + the service's affinity). */
  update(key: string, endpoints: readonly Endpoint[], affinityTimeoutSeconds?: number): void {
    let state = this.states.get(key);
    if (!state) {
      state = { endpoints: [], index: 0, affinity: new Map() };
      this.states.set(key, state);
    }
    if (state.affinityTimeoutSeconds !== affinityTimeoutSeconds) {
      state.affinityTimeoutSeconds = affinityTimeoutSeconds;
      if (affinityTimeoutSeconds === undefined) state.affinity.clear();
    }
    const ids = endpoints.map(endpointId);
    const current = new Set(state.endpoints.map(endpointId));
    if (ids.length === current.size && ids.every((id) => current.has(id))) return;
    const next = [...endpoints];
    if (this.o.shuffle !== false) shuffle(next);
    state.endpoints = next;
    state.index = 0;
    const kept = new Set(ids);
    for (const [client, a] of state.affinity)
      if (!kept.has(endpointId(a.endpoint))) state.affinity.delete(client);
  }

  remove(key: string): void {
    this.states.delete(key);
  }

  /** The service port's endpoints now (for tests and metrics). */
  endpoints(key: string): readonly Endpoint[] {
    return this.states.get(key)?.endpoints ?? [];
  }

  /**
   * The endpoint for a new connection from `clientIP` (NextEndpoint). `resetAffinity` is set
   * when retrying after a failed dial: the client's pinned endpoint is not used again.
   */
  next(key: string, clientIP: string, resetAffinity = false): Endpoint | undefined {
    const state = this.states.get(key);
    if (!state || state.endpoints.length === 0) return undefined;
    const ttl = state.affinityTimeoutSeconds;
    const now = this.now();
    if (ttl !== undefined && !resetAffinity) {
      const pinned = state.affinity.get(clientIP);
      // Upstream compares whole seconds since the last use against the TTL.
      if (pinned && Math.floor((now - pinned.lastUsedMs) / 1000) < ttl) {
        pinned.lastUsedMs = now;
        return pinned.endpoint;
      }
    }
    const endpoint = state.endpoints[state.index % state.endpoints.length]!;
    state.index = (state.index + 1) % state.endpoints.length;
    if (ttl !== undefined) state.affinity.set(clientIP, { endpoint, lastUsedMs: now });
    return endpoint;
  }
}

function shuffle<T>(items: T[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}
