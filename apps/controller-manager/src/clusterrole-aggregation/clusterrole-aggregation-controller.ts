import { isDeepStrictEqual } from 'node:util';

import { labelSelectorFromObject, type LabelSelectorObject, matchesLabels } from '@app/api';
import {
  type ApiClient,
  type Informer,
  type RateLimiter,
  resourcePath,
  type WorkQueueMetrics,
} from '@app/client';
import { type StoredObject } from '@app/event-store';

import { QueueController } from '../controller.js';

export const CLUSTER_ROLES = { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterroles' };

export interface ClusterRole extends StoredObject {
  aggregationRule?: { clusterRoleSelectors?: LabelSelectorObject[] } | null;
  rules?: unknown[];
}

export interface ClusterRoleAggregationOptions {
  api: ApiClient;
  clusterRoles: Informer<ClusterRole>;
  /** Workers (upstream runs 5). */
  workers?: number;
  rateLimiter?: RateLimiter<string>;
  onTrouble?: (e: Error, key?: string) => void;
  queueMetrics?: (name: string) => WorkQueueMetrics;
}

/**
 * The ClusterRole aggregation controller (pkg/controller/clusterroleaggregation): a ClusterRole
 * with an aggregationRule gets as its rules the union of the rules of every other ClusterRole
 * its selectors match, in name order, each rule once. This is how `admin`, `edit` and `view`
 * take in the rules of roles labelled `rbac.authorization.k8s.io/aggregate-to-*`, a CRD's
 * roles among them. Any ClusterRole change may change any aggregate, so every aggregated role
 * is queued on each change.
 */
export class ClusterRoleAggregationController extends QueueController {
  readonly name = 'clusterrole-aggregation';

  constructor(private readonly o: ClusterRoleAggregationOptions) {
    super({
      queueName: 'ClusterRoleAggregator',
      workers: o.workers ?? 5,
      rateLimiter: o.rateLimiter,
      queueMetrics: o.queueMetrics,
      onTrouble: o.onTrouble,
    });
    o.clusterRoles.onChange(() => this.enqueueAll());
  }

  protected enqueueAll(): void {
    for (const role of this.o.clusterRoles.cache.list())
      if (role.aggregationRule) this.queue.add(role.metadata.name ?? '');
  }

  /** syncClusterRole. */
  async sync(name: string): Promise<void> {
    const role = this.o.clusterRoles.cache.get(name);
    if (!role?.aggregationRule) return;
    // byName: Go's string order (bytes), not the locale's.
    const all = [...this.o.clusterRoles.cache.list()].sort((a, b) => {
      const [x, y] = [String(a.metadata.name), String(b.metadata.name)];
      return x < y ? -1 : x > y ? 1 : 0;
    });
    const rules: unknown[] = [];
    for (const selector of role.aggregationRule.clusterRoleSelectors ?? []) {
      const sel = labelSelectorFromObject(selector);
      for (const other of all) {
        if (other.metadata.name === name || !matchesLabels(sel, other.metadata.labels)) continue;
        for (const rule of other.rules ?? [])
          if (!rules.some((r) => isDeepStrictEqual(r, rule))) rules.push(rule);
      }
    }
    if (isDeepStrictEqual(rules, role.rules ?? [])) return;
    await this.o.api.update(
      resourcePath({ ...CLUSTER_ROLES, name }),
      { ...role, apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', rules },
      { cause: Number(role.metadata.resourceVersion) },
    );
  }
}
