import { type ResourceRegistry, StatusError } from '@app/api';
import { type WatchHub } from '@app/bus';
import { type EventStore } from '@app/event-store';

import { KindCache } from '../cache/kind-cache.js';
import { RBAC_GROUP } from './bootstrap-policy.js';
import { type RbacObjects } from './rbac-authorizer.js';

/**
 * The four RBAC kinds in memory, fed by the log (upstream's authorizer reads informers too):
 * every request is authorized against them without a query. A cache that stopped following the
 * log is never read: a revoked binding must not go on granting, so RBAC decisions fail (500)
 * instead; system:masters, which RBAC does not consult, is unaffected.
 */
export class RbacCaches implements RbacObjects {
  private constructor(
    private readonly roleCache: KindCache,
    private readonly roleBindingCache: KindCache,
    private readonly clusterRoleCache: KindCache,
    private readonly clusterRoleBindingCache: KindCache,
  ) {}

  static async start(
    store: EventStore,
    hub: WatchHub,
    registry: ResourceRegistry,
    onError: (plural: string, e: unknown) => void,
  ): Promise<RbacCaches> {
    const cache = async (plural: string) => {
      const k = new KindCache(store, hub, registry.get(RBAC_GROUP, 'v1', plural), (e) => onError(plural, e));
      await k.start();
      return k;
    };
    const [roles, roleBindings, clusterRoles, clusterRoleBindings] = await Promise.all([
      cache('roles'),
      cache('rolebindings'),
      cache('clusterroles'),
      cache('clusterrolebindings'),
    ]);
    return new RbacCaches(roles, roleBindings, clusterRoles, clusterRoleBindings);
  }

  get all(): KindCache[] {
    return [this.roleCache, this.roleBindingCache, this.clusterRoleCache, this.clusterRoleBindingCache];
  }

  /** Waits until every cache reflects the log up to `rv`; false if one took longer than `timeoutMs`. */
  async sync(rv: number, timeoutMs?: number): Promise<boolean> {
    return (await Promise.all(this.all.map((c) => c.sync(rv, timeoutMs)))).every(Boolean);
  }

  clusterRoleBindings() {
    return live(this.clusterRoleBindingCache).list();
  }

  roleBindings(namespace: string) {
    return live(this.roleBindingCache).list(namespace);
  }

  clusterRole(name: string) {
    return live(this.clusterRoleCache).get('', name);
  }

  role(namespace: string, name: string) {
    return live(this.roleCache).get(namespace, name);
  }
}

function live(cache: KindCache): KindCache {
  if (!cache.following)
    throw StatusError.internal(
      `RBAC: the ${cache.type.plural} cache no longer follows the event log; authorization is refused until the API server restarts`,
    );
  return cache;
}
