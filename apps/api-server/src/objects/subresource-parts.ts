import { type StoredObject } from '@app/event-store';

/** The subresources through which one part of the object is written, the rest kept as it is. */
export type PartSubresource = 'status' | 'ephemeralcontainers';

/**
 * The part of `o` a write through `sub` may change: its status, or its ephemeral containers
 * (podEphemeralContainersStrategy, dropNonEphemeralContainerUpdates). Absent when `o` has none.
 */
export function partOf(sub: PartSubresource, o: StoredObject): Partial<StoredObject> {
  if (sub === 'status') return o.status !== undefined ? { status: o.status } : {};
  const ephemeral = (o.spec as { ephemeralContainers?: unknown } | undefined)?.ephemeralContainers;
  return ephemeral !== undefined ? { spec: { ephemeralContainers: ephemeral } } : {};
}

/** `current` with its part replaced by `sent`'s: every other change of the write is dropped. */
export function withPartOf(sub: PartSubresource, current: StoredObject, sent: StoredObject): StoredObject {
  const part = partOf(sub, sent);
  if (sub === 'status') {
    const next = { ...current, ...part };
    if (part.status === undefined) delete next.status;
    return next;
  }
  const spec = { ...((current.spec ?? {}) as Record<string, unknown>) };
  delete spec.ephemeralContainers;
  return { ...current, spec: { ...spec, ...(part.spec as object | undefined) } };
}
