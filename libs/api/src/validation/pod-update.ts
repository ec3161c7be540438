import { type StatusCause } from '../errors/index.js';
import { changedKeys, forbidden, type Json, listOf, semanticEqual, specOf } from './pod-fields.js';

/** The spec fields a plain pod update may change, as upstream's refusal lists them. */
const UPDATABLE_POD_SPEC_FIELDS = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
].join(',');

const MAX_INT32 = 2 ** 31 - 1;

/**
 * ValidateContainerUpdates: the same number of containers, their images without surrounding
 * space (a missing image is validatePodSpec's to report).
 */
function containerUpdates(next: Json, old: Json, field: string): { causes: StatusCause[]; stop: boolean } {
  const now = listOf(next, field);
  if (now.length !== listOf(old, field).length)
    return {
      causes: [forbidden(`spec.${field}`, 'pod updates may not add or remove containers')],
      stop: true,
    };
  const causes: StatusCause[] = [];
  now.forEach((c, i) => {
    const image = typeof c.image === 'string' ? c.image : '';
    const at = `spec.${field}[${i}].image`;
    if (image !== '' && image.trim() !== image)
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${JSON.stringify(image)}: must not have leading or trailing whitespace`,
        field: at,
      });
  });
  return { causes, stop: false };
}

/**
 * activeDeadlineSeconds may be set, or lowered, never raised or removed; `stop` for the two
 * refusals after which upstream checks nothing more.
 */
function activeDeadlineUpdate(next: Json, old: Json): { cause?: StatusCause; stop?: boolean } {
  const now = next.activeDeadlineSeconds;
  const before = old.activeDeadlineSeconds;
  const invalid = (message: string): StatusCause => ({
    reason: 'FieldValueInvalid',
    message: `Invalid value: ${JSON.stringify(now ?? null)}: ${message}`,
    field: 'spec.activeDeadlineSeconds',
  });
  if (typeof now === 'number') {
    if (now < 0 || now > MAX_INT32)
      return { cause: invalid(`must be between 0 and ${MAX_INT32}, inclusive`), stop: true };
    if (typeof before === 'number' && before < now)
      return { cause: invalid('must be less than or equal to previous value'), stop: true };
  } else if (typeof before === 'number')
    return { cause: invalid('must not update from a positive integer to nil value') };
  return {};
}

/** validateOnlyAddedTolerations: each old toleration is still there (its tolerationSeconds may change). */
function onlyAddedTolerations(next: Json, old: Json): StatusCause | undefined {
  const now = listOf(next, 'tolerations');
  for (const before of listOf(old, 'tolerations')) {
    const kept = now.some((t) =>
      semanticEqual({ ...before, tolerationSeconds: undefined }, { ...t, tolerationSeconds: undefined }),
    );
    if (!kept)
      return forbidden(
        'spec.tolerations',
        'existing toleration can not be modified except its tolerationSeconds',
      );
  }
  return undefined;
}

/** validateOnlyDeletedSchedulingGates: a gate may go, none may come. */
function onlyDeletedSchedulingGates(next: Json, old: Json): StatusCause[] {
  const before = new Set(listOf(old, 'schedulingGates').map((g) => g.name));
  const causes: StatusCause[] = [];
  listOf(next, 'schedulingGates').forEach((g, i) => {
    if (!before.has(g.name))
      causes.push(
        forbidden(
          `spec.schedulingGates[${i}].name`,
          `only deletion is allowed, but found new scheduling gate '${String(g.name)}'`,
        ),
      );
  });
  return causes;
}

/**
 * ValidatePodUpdate (pkg/apis/core/validation): a pod's spec is fixed once created but for
 * its containers' images, a lower activeDeadlineSeconds, added tolerations, removed
 * scheduling gates, a negative terminationGracePeriodSeconds set to 1, and, while the pod is
 * gated, added nodeSelector entries. Anything else is refused with upstream's message (the
 * fields that differ in place of its diff). Ephemeral containers change only through
 * pods/ephemeralcontainers, nodeName only through pods/binding.
 */
export function validatePodUpdate(nextPod: Json, oldPod: Json): StatusCause[] {
  const next = specOf(nextPod);
  const old = specOf(oldPod);
  const causes: StatusCause[] = [];
  for (const field of ['containers', 'initContainers']) {
    const r = containerUpdates(next, old, field);
    causes.push(...r.causes);
    if (r.stop) return causes;
  }
  const deadline = activeDeadlineUpdate(next, old);
  if (deadline.cause) causes.push(deadline.cause);
  if (deadline.stop) return causes;
  const tolerations = onlyAddedTolerations(next, old);
  if (tolerations) causes.push(tolerations);
  causes.push(...onlyDeletedSchedulingGates(next, old));
  if (semanticEqual(next, old)) return causes;

  // What may change is set back to what it was; whatever still differs may not change.
  const munged: Json = { ...next };
  for (const field of ['containers', 'initContainers'])
    if (next[field] !== undefined)
      munged[field] = listOf(next, field).map((c, i) => ({ ...c, image: listOf(old, field)[i]?.image }));
  munged.activeDeadlineSeconds = old.activeDeadlineSeconds;
  munged.schedulingGates = old.schedulingGates;
  munged.tolerations = old.tolerations;
  const grace = old.terminationGracePeriodSeconds;
  if (typeof grace === 'number' && grace < 0 && munged.terminationGracePeriodSeconds === 1)
    munged.terminationGracePeriodSeconds = grace;
  if (listOf(old, 'schedulingGates').length > 0) {
    // A gated pod may gain nodeSelector entries (not lose or change them).
    const before = (old.nodeSelector ?? {}) as Json;
    const now = (next.nodeSelector ?? {}) as Json;
    if (Object.entries(before).every(([k, v]) => now[k] === v)) munged.nodeSelector = old.nodeSelector;
  }
  if (semanticEqual(munged, old)) return causes;
  const changed = changedKeys(munged, old).map((k) => `spec.${k}`);
  causes.push(
    forbidden(
      'spec',
      `pod updates may not change fields other than ${UPDATABLE_POD_SPEC_FIELDS}\nchanged: ${changed.join(', ')}`,
    ),
  );
  return causes;
}
