import { type ResourceRegistry, StatusError } from '@app/api';
import { SYSTEM_ACTOR } from '@app/event-store';

import { type ObjectService } from '../objects/object-service.js';

/** Namespaces every cluster has from the start (upstream's system namespaces controller). */
export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** Creates the system namespaces that do not exist yet; safe to run on every start. */
export async function ensureSystemNamespaces(
  objects: ObjectService,
  registry: ResourceRegistry,
): Promise<void> {
  const namespaces = registry.get('', 'v1', 'namespaces');
  for (const name of SYSTEM_NAMESPACES) {
    try {
      await objects.create(
        namespaces,
        '',
        { metadata: { name } },
        { actor: SYSTEM_ACTOR, userAgent: 'wake-apiserver' },
      );
    } catch (e) {
      if (!(e instanceof StatusError && e.reason === 'AlreadyExists')) throw e;
    }
  }
}
