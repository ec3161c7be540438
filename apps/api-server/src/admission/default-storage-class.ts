import { type ResourceRegistry } from '@app/api';
import { type StoredObject } from '@app/event-store';

import { type ObjectService } from '../objects/object-service.js';
import { type AdmissionPlugin, type AdmissionRequest } from './admission-plugin.js';

type Json = Record<string, unknown>;

const IS_DEFAULT = 'storageclass.kubernetes.io/is-default-class';
const BETA_IS_DEFAULT = 'storageclass.beta.kubernetes.io/is-default-class';
const BETA_STORAGE_CLASS = 'volume.beta.kubernetes.io/storage-class';

const annotations = (o: StoredObject) => (o.metadata.annotations as Record<string, string> | undefined) ?? {};

/**
 * storageutil.GetDefaultClass: of the classes annotated default, the newest (then the first by
 * name), as upstream has picked since 1.26 when several are.
 */
export function defaultStorageClass(classes: readonly StoredObject[]): StoredObject | undefined {
  const defaults = classes.filter(
    (c) => annotations(c)[IS_DEFAULT] === 'true' || annotations(c)[BETA_IS_DEFAULT] === 'true',
  );
  const created = (c: StoredObject) => Date.parse(String(c.metadata.creationTimestamp ?? '')) || 0;
  defaults.sort(
    (a, b) =>
      created(b) - created(a) || String(a.metadata.name ?? '').localeCompare(String(b.metadata.name ?? '')),
  );
  return defaults[0];
}

/**
 * DefaultStorageClass (plugin/pkg/admission/storage/storageclass/setdefault): a claim created
 * without a class (no storageClassName, no beta annotation; "" is a class choice: none) gets the
 * cluster's default class, when there is one.
 */
export class DefaultStorageClass implements AdmissionPlugin {
  readonly name = 'DefaultStorageClass';

  constructor(
    private readonly objects: () => ObjectService,
    private readonly registry: ResourceRegistry,
  ) {}

  async admit(r: AdmissionRequest): Promise<void> {
    if (r.operation !== 'create' || r.subresource || !r.object) return;
    if (r.type.group !== '' || r.type.plural !== 'persistentvolumeclaims') return;
    const spec = (r.object.spec ??= {}) as Json;
    // PersistentVolumeClaimHasClass.
    if ((spec.storageClassName ?? null) !== null || annotations(r.object)[BETA_STORAGE_CLASS] !== undefined)
      return;
    const type = this.registry.get('storage.k8s.io', 'v1', 'storageclasses');
    const { items } = await this.objects().list(type, undefined, {});
    const def = defaultStorageClass(items);
    if (def) spec.storageClassName = def.metadata.name;
  }
}
