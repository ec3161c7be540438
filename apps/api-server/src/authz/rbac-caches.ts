import { type ResourceRegistry, StatusError } from '@app/api';
import { type WatchHub } from '@app/bus';
import { type EventStore } from '@app/event-store';

import { FollowedCaches, type FollowedCachesOptions } from '../cache/followed-caches.js';
import { type KindCache } from '../cache/kind-cache.js';
import { RBAC_GROUP } from './bootstrap-policy.js';
import { type RbacObjects } from './rbac-authorizer.js';

type RbacPlural = 'roles' | 'rolebindings' | 'clusterroles' | 'clusterrolebindings';

/**
 * The four RBAC kinds in memory, fed by the log (upstream's authorizer reads informers too):
 * every request is authorized against them without a query. A cache that stopped following the
 * log is never read: a revoked binding must not go on granting, so RBAC decisions fail (500)
 * until FollowedCaches has rebuilt it; system:masters, which RBAC does not consult, is
 * unaffected meanwhile.
 */
export class RbacCaches implements RbacObjects {
  private constructor(readonly caches: FollowedCaches<RbacPlural>) {}

  static async start(
    store: EventStore,
    hub: WatchHub,
    registry: ResourceRegistry,
    o: FollowedCachesOptions,
  ): Promise<RbacCaches> {
    const type = (plural: RbacPlural) => registry.get(RBAC_GROUP, 'v1', plural);
    const types = {
      roles: type('roles'),
      rolebindings: type('rolebindings'),
      clusterroles: type('clusterroles'),
      clusterrolebindings: type('clusterrolebindings'),
    };
    return new RbacCaches(await FollowedCaches.start(store, hub, types, o));
  }

  /** The caches as they are now, roles, role bindings, cluster roles and cluster role bindings. */
  get all(): KindCache[] {
    return this.caches.all;
  }

  sync(rv: number, timeoutMs?: number): Promise<boolean> {
    return this.caches.sync(rv, timeoutMs);
  }

  stop(): Promise<void> {
    return this.caches.stop();
  }

  clusterRoleBindings() {
    return live(this.caches.get('clusterrolebindings')).list();
  }

  roleBindings(namespace: string) {
    return live(this.caches.get('rolebindings')).list(namespace);
  }

  clusterRole(name: string) {
    return live(this.caches.get('clusterroles')).get('', name);
  }

  role(namespace: string, name: string) {
    return live(this.caches.get('roles')).get(namespace, name);
  }
}

function live(cache: KindCache): KindCache {
  if (!cache.following)
    throw StatusError.internal(
      `RBAC: the ${cache.type.plural} cache no longer follows the event log; authorization is refused until it is rebuilt`,
    );
  return cache;
}
