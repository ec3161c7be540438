import { type StoredObject } from '@app/event-store';

/**
 * What a write through `pods/ephemeralcontainers` makes of the pod
 * (podEphemeralContainersStrategy.PrepareForUpdate, dropNonEphemeralContainerUpdates): the
 * current pod with the sent list of ephemeral containers; every other change is dropped.
 */
export function withEphemeralContainersOf(current: StoredObject, sent: StoredObject): StoredObject {
  const spec = { ...((current.spec ?? {}) as Record<string, unknown>) };
  const sentSpec = sent.spec as { ephemeralContainers?: unknown } | undefined;
  if (sentSpec?.ephemeralContainers === undefined) delete spec.ephemeralContainers;
  else spec.ephemeralContainers = sentSpec.ephemeralContainers;
  return { ...current, spec };
}
