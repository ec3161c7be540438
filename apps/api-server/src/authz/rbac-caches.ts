import { type ResourceRegistry } from '@app/api';
import { type WatchHub } from '@app/bus';
import { type EventStore } from '@app/event-store';

import { KindCache } from '../cache/kind-cache.js';
import { RBAC_GROUP } from './bootstrap-policy.js';
import { type RbacObjects } from './rbac-authorizer.js';

/**
 * The four RBAC kinds in memory, fed by the log (upstream's authorizer reads informers too):
 * every request is authorized against them without a query.
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
    return this.clusterRoleBindingCache.list();
  }

  roleBindings(namespace: string) {
    return this.roleBindingCache.list(namespace);
  }

  clusterRole(name: string) {
    return this.clusterRoleCache.get('', name);
  }

  role(namespace: string, name: string) {
    return this.roleCache.get(namespace, name);
  }
}
