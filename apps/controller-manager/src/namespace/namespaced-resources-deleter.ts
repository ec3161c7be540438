import { aggregate, apiVersionOf } from '@app/api';
import { type ApiClient, ApiError, resourcePath, retryOnConflict } from '@app/client';
import { type StoredObject } from '@app/event-store';

import {
  type DiscoveredResource,
  type GroupVersionResource,
  groupVersionResources,
  serverPreferredNamespacedResources,
  supportsAllVerbs,
} from './discovery.js';
import { type ContentTotals, NamespaceConditionUpdater } from './namespace-conditions.js';
import { FINALIZER_KUBERNETES, type Namespace, NAMESPACES } from './namespace-types.js';

/** Seconds to wait for content with finalizers before looking again (upstream's finalizerEstimateSeconds). */
export const FINALIZER_ESTIMATE_SECONDS = 15;

/** Content remains that will go by itself (grace periods, finalizers): look again in about `estimate` seconds. */
export class ResourcesRemainingError extends Error {
  override name = 'ResourcesRemainingError';

  constructor(readonly estimate: number) {
    super(`some content remains in the namespace, estimate ${estimate} seconds before it is removed`);
  }
}

interface GvrDeletion {
  finalizerEstimateSeconds: number;
  numRemaining: number;
  finalizersToNumRemaining: Map<string, number>;
}

interface Pod extends StoredObject {
  spec?: { terminationGracePeriodSeconds?: number };
  status?: { phase?: string };
}

const BACKGROUND = { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' };

export interface DeleterOptions {
  api: ApiClient;
  /** Discovery, replaceable in tests (upstream's discoverResourcesFn). */
  discover?: (api: ApiClient) => Promise<{ resources: DiscoveredResource[]; error?: Error }>;
  finalizerEstimateSeconds?: number;
  now?: () => number;
  onTrouble?: (e: Error, namespace: string) => void;
}

/**
 * upstream's namespacedResourcesDeleter (pkg/controller/namespace/deletion/namespaced_resources_deleter.go):
 * for a namespace being deleted, deletes every namespaced resource in it, records how that went
 * in the namespace's conditions, and once nothing is left takes the `kubernetes` finalizer off
 * through /finalize, after which the API server removes the namespace.
 */
export class NamespacedResourcesDeleter {
  constructor(private readonly o: DeleterOptions) {}

  /** Delete(ctx, nsName): throws ResourcesRemainingError while content is still going away. */
  async delete(name: string): Promise<void> {
    let ns: Namespace;
    try {
      ns = await this.o.api.get<Namespace>(resourcePath({ ...NAMESPACES, name }));
    } catch (e) {
      if (ApiError.isNotFound(e)) return;
      throw e;
    }
    if (!ns.metadata.deletionTimestamp) return;
    ns = await retryOnConflict(
      ns,
      () => this.latest(ns),
      (n) => this.markTerminating(n),
    );
    if (!ns.metadata.deletionTimestamp) return;
    if (finalized(ns)) return;
    const estimate = await this.deleteAllContent(ns);
    if (estimate > 0) throw new ResourcesRemainingError(estimate);
    try {
      await retryOnConflict(
        ns,
        () => this.latest(ns),
        (n) => this.finalize(n),
      );
    } catch (e) {
      // Another controller sharing the finalizer token may have finalized it already.
      if (!ApiError.isNotFound(e)) throw e;
    }
  }

  /** updateNamespaceStatusFunc: a namespace with a deletionTimestamp is Terminating. */
  private async markTerminating(ns: Namespace): Promise<Namespace> {
    if (ns.status?.phase === 'Terminating') return ns;
    return this.o.api.update<Namespace>(
      resourcePath({ ...NAMESPACES, name: ns.metadata.name, subresource: 'status' }),
      { ...ns, status: { ...ns.status, phase: 'Terminating' } },
      { cause: causeOf(ns) },
    );
  }

  /** finalizeNamespace: spec.finalizers without ours, through the finalize subresource. */
  private async finalize(ns: Namespace): Promise<Namespace> {
    const finalizers = (ns.spec?.finalizers ?? []).filter((f) => f !== FINALIZER_KUBERNETES);
    return this.o.api.update<Namespace>(
      resourcePath({ ...NAMESPACES, name: ns.metadata.name, subresource: 'finalize' }),
      { apiVersion: 'v1', kind: 'Namespace', metadata: ns.metadata, spec: { ...ns.spec, finalizers } },
      { cause: causeOf(ns) },
    );
  }

  /** The namespace as it is now: what upstream's retryOnConflictError writes again on a conflict. */
  private latest(ns: Namespace): Promise<Namespace> {
    return this.o.api.get<Namespace>(resourcePath({ ...NAMESPACES, name: ns.metadata.name }));
  }

  /** deleteAllContent: the estimate in seconds before the rest is gone; errors after every resource was tried. */
  private async deleteAllContent(ns: Namespace): Promise<number> {
    const namespace = ns.metadata.name ?? '';
    const deletedAt = Date.parse(ns.metadata.deletionTimestamp ?? '');
    const conditions = new NamespaceConditionUpdater();
    const errors: Error[] = [];
    const discovered = await (this.o.discover ?? serverPreferredNamespacedResources)(this.o.api).catch(
      (e: unknown) => ({ resources: [], error: e as Error }),
    );
    if (discovered.error) {
      // Not fatal: delete what could be discovered.
      errors.push(discovered.error);
      conditions.processDiscoverResourcesErr(discovered.error);
    }
    const deletable = discovered.resources.filter((r) => supportsAllVerbs(r, ['delete']));
    const { gvrs, error: parseError } = groupVersionResources(deletable);
    if (parseError) {
      errors.push(parseError);
      conditions.processGroupVersionErr(parseError);
    }
    const verbsOf = new Map(deletable.map((r) => [`${r.groupVersion}/${r.name}`, r.verbs]));
    const totals: ContentTotals = { resourceToNumRemaining: new Map(), finalizersToNumRemaining: new Map() };
    let estimate = 0;
    const cause = causeOf(ns);
    for (const gvr of gvrs) {
      const verbs = verbsOf.get(`${apiVersionOf(gvr)}/${gvr.resource}`) ?? [];
      const { result, error } = await this.deleteAllContentFor(gvr, verbs, namespace, deletedAt, cause);
      if (error) {
        // Held on to; the other resources are still deleted.
        errors.push(error);
        conditions.processDeleteContentErr(error);
      }
      estimate = Math.max(estimate, result.finalizerEstimateSeconds);
      if (result.numRemaining > 0)
        totals.resourceToNumRemaining.set(`${gvr.resource}.${gvr.group}`, result.numRemaining);
      for (const [f, n] of result.finalizersToNumRemaining)
        totals.finalizersToNumRemaining.set(f, (totals.finalizersToNumRemaining.get(f) ?? 0) + n);
    }
    conditions.processContentTotals(totals);
    // Always written when different: a condition that went back to "ok" must say so.
    const { conditions: next, changed } = conditions.update(ns.status?.conditions);
    if (changed)
      await this.o.api
        .update(
          resourcePath({ ...NAMESPACES, name: namespace, subresource: 'status' }),
          { ...ns, status: { ...ns.status, conditions: next } },
          { cause },
        )
        // As upstream: reported, and written on the next pass.
        .catch((e: unknown) => this.o.onTrouble?.(e as Error, namespace));
    if (errors.length === 1) throw errors[0];
    if (errors.length) throw new Error(aggregate(errors.map((e) => e.message)));
    return estimate;
  }

  /** deleteAllContentForGroupVersionResource: what remains of one resource, and the error if any. */
  private async deleteAllContentFor(
    gvr: GroupVersionResource,
    verbs: string[],
    namespace: string,
    deletedAt: number,
    cause: number,
  ): Promise<{ result: GvrDeletion; error?: Error }> {
    const path = resourcePath({ group: gvr.group, version: gvr.version, plural: gvr.resource, namespace });
    // An estimate that cannot be made is none.
    const estimate = await this.estimateGracefulTermination(gvr, namespace, deletedAt).catch(() => 0);
    const result: GvrDeletion = {
      finalizerEstimateSeconds: estimate,
      numRemaining: 0,
      finalizersToNumRemaining: new Map(),
    };
    let items: StoredObject[];
    try {
      if (verbs.includes('deletecollection')) await this.o.api.delete(path, BACKGROUND, { cause });
      else if (verbs.includes('list')) await this.deleteEachItem(path, cause);
      if (!verbs.includes('list')) return { result };
      items = (await this.o.api.list(path)).items;
    } catch (e) {
      return { result, error: e as Error };
    }
    if (items.length === 0) return { result };
    result.numRemaining = items.length;
    for (const item of items)
      for (const f of (item.metadata.finalizers as string[] | undefined) ?? [])
        result.finalizersToNumRemaining.set(f, (result.finalizersToNumRemaining.get(f) ?? 0) + 1);
    if (estimate !== 0) return { result };
    // Content held by finalizers is normal: give their controllers (the GC's) time.
    if (result.finalizersToNumRemaining.size > 0) {
      result.finalizerEstimateSeconds = this.o.finalizerEstimateSeconds ?? FINALIZER_ESTIMATE_SECONDS;
      return { result };
    }
    return {
      result,
      error: new Error(
        `unexpected items still remain in namespace: ${namespace} for gvr: ${gvr.group}/${gvr.version}, Resource=${gvr.resource}`,
      ),
    };
  }

  private async deleteEachItem(path: string, cause: number): Promise<void> {
    for (const item of (await this.o.api.list(path)).items)
      await this.o.api
        .delete(`${path}/${encodeURIComponent(item.metadata.name ?? '')}`, BACKGROUND, { cause })
        .catch((e: unknown) => {
          if (!ApiError.isNotFound(e)) throw e;
        });
  }

  /**
   * estimateGracefulTermination: only pods have a grace period worth waiting for — the longest
   * terminationGracePeriodSeconds of the pods not yet finished, unless the namespace has been
   * deleting for longer than that already.
   */
  private async estimateGracefulTermination(
    gvr: GroupVersionResource,
    namespace: string,
    deletedAt: number,
  ): Promise<number> {
    if (!(gvr.group === '' && gvr.resource === 'pods')) return 0;
    const pods = await this.o.api.list<Pod>(
      resourcePath({ group: '', version: 'v1', plural: 'pods', namespace }),
    );
    let estimate = 0;
    for (const pod of pods.items) {
      const phase = pod.status?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') continue;
      estimate = Math.max(estimate, pod.spec?.terminationGracePeriodSeconds ?? 0);
    }
    const elapsed = ((this.o.now ?? Date.now)() - deletedAt) / 1000;
    return elapsed >= estimate ? 0 : estimate;
  }
}

/** finalized: nothing left in spec.finalizers. */
function finalized(ns: Namespace): boolean {
  return (ns.spec?.finalizers ?? []).length === 0;
}

function causeOf(o: StoredObject): number {
  return Number(o.metadata.resourceVersion);
}
