import { type ResourceRegistry, StatusError } from '@app/api';

import { type KindCache } from '../cache/kind-cache.js';
import { type ObjectService } from '../objects/object-service.js';
import { type AdmissionPlugin, type AdmissionRequest } from './admission-plugin.js';

/** Namespaces the cluster cannot do without (upstream's immortal namespaces). */
const IMMORTAL_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);

/**
 * NamespaceLifecycle: namespaced objects are created only in a namespace that exists and is
 * not being deleted, and the system namespaces cannot be deleted
 * (upstream plugin/pkg/admission/namespace/lifecycle).
 */
export class NamespaceLifecycle implements AdmissionPlugin {
  readonly name = 'NamespaceLifecycle';

  constructor(
    private readonly objects: () => ObjectService,
    private readonly registry: ResourceRegistry,
    /** The current namespaces cache (FollowedCaches replaces one that stopped). */
    private readonly namespaces?: () => KindCache,
  ) {}

  async admit(r: AdmissionRequest): Promise<void> {
    const name = String(r.old?.metadata.name ?? '');
    if (
      r.operation === 'delete' &&
      r.type.group === '' &&
      r.type.plural === 'namespaces' &&
      IMMORTAL_NAMESPACES.has(name)
    )
      throw new StatusError(
        'Forbidden',
        `namespaces "${name}" is forbidden: this namespace may not be deleted`,
        {
          name,
          kind: 'namespaces',
        },
      );
    if (r.operation !== 'create' || !r.type.namespaced) return;
    const namespaces = this.registry.get('', 'v1', 'namespaces');
    // The cache, once it has caught up with this server's own namespace writes; else a live read.
    const cache = this.namespaces?.();
    const cached = cache && (await cache.sync(this.objects().lastWriteOf(namespaces)));
    let ns = cached ? cache.get('', r.namespace) : undefined;
    if (!ns)
      try {
        ns = await this.objects().get(namespaces, '', r.namespace);
      } catch (e) {
        if (e instanceof StatusError && e.reason === 'NotFound')
          throw StatusError.notFound({ resource: 'namespaces', name: r.namespace });
        throw e;
      }
    if (
      ns.metadata.deletionTimestamp ||
      (ns.status as { phase?: string } | undefined)?.phase === 'Terminating'
    ) {
      throw new StatusError(
        'Forbidden',
        `${r.type.group ? `${r.type.plural}.${r.type.group}` : r.type.plural} "${String(r.object?.metadata.name ?? '')}" is forbidden: unable to create new content in namespace ${r.namespace} because it is being terminated`,
        {
          name: String(r.object?.metadata.name ?? ''),
          kind: r.type.plural,
          ...(r.type.group ? { group: r.type.group } : {}),
          causes: [
            {
              reason: 'NamespaceTerminating' as never,
              message: `namespace ${r.namespace} is being terminated`,
              field: 'metadata.namespace',
            },
          ],
        },
      );
    }
  }
}
