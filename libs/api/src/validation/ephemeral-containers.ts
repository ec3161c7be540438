import { type StatusCause } from '../errors/index.js';
import { changedKeys, forbidden, type Json, listOf, semanticEqual, specOf } from './pod-fields.js';

/**
 * The fields an ephemeral container may not set (validateEphemeralContainers forbids every
 * field outside its allow-list; these are the ones a Container has beyond it).
 */
const FORBIDDEN_FIELDS = [
  'ports',
  'resources',
  'resizePolicy',
  'restartPolicy',
  'restartPolicyRules',
  'livenessProbe',
  'readinessProbe',
  'startupProbe',
  'lifecycle',
];

/**
 * Whether a field is set, as validateEphemeralContainers' reflection sees it: any pointer (a
 * probe, a lifecycle, even empty), a non-empty list or string; `resources` only when it holds
 * something, since defaulting puts an empty one on every container.
 */
function isSet(field: string, v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === false) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (field === 'resources') return !semanticEqual(v, {});
  return true;
}

/**
 * validateEphemeralContainers (pkg/apis/core/validation): what an ephemeral container may not
 * set, its volume mounts without subPath, and a target among the pod's regular or init
 * containers. Names and images are checked with the other containers' (validatePodSpec).
 */
export function validateEphemeralContainers(spec: Json, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const targets = new Set(
    [...listOf(spec, 'containers'), ...listOf(spec, 'initContainers')].map((c) => c.name).filter(Boolean),
  );
  listOf(spec, 'ephemeralContainers').forEach((c, i) => {
    const at = `${path}.ephemeralContainers[${i}]`;
    for (const field of FORBIDDEN_FIELDS)
      if (isSet(field, c[field]))
        causes.push(forbidden(`${at}.${field}`, 'cannot be set for an Ephemeral Container'));
    listOf(c, 'volumeMounts').forEach((m, j) => {
      for (const field of ['subPath', 'subPathExpr'])
        if (isSet(field, m[field]))
          causes.push(
            forbidden(`${at}.volumeMounts[${j}].${field}`, 'cannot be set for an Ephemeral Container'),
          );
    });
    const target = c.targetContainerName;
    if (typeof target === 'string' && target !== '' && !targets.has(target))
      causes.push({
        reason: 'FieldValueNotFound',
        message: `Not found: ${JSON.stringify(target)}`,
        field: `${at}.targetContainerName`,
      });
  });
  return causes;
}

/** ValidatePodCreate: ephemeral containers are only ever added to a pod that exists. */
export function validatePodCreate(pod: Json): StatusCause[] {
  return listOf(specOf(pod), 'ephemeralContainers').length > 0
    ? [forbidden('spec.ephemeralContainers', 'cannot be set on create')]
    : [];
}

/** ValidatePodTemplateSpec: a template's pods are created, so they cannot have any either. */
export function validateTemplateEphemeralContainers(spec: Json, path: string): StatusCause[] {
  return listOf(spec, 'ephemeralContainers').length > 0
    ? [forbidden(`${path}.ephemeralContainers`, 'ephemeral containers not allowed in pod template')]
    : [];
}

/**
 * ValidatePodEphemeralContainersUpdate, beyond the whole pod's validation: containers are
 * added, never removed or changed (matched by name, so order is free); static pods have none.
 */
export function validateEphemeralContainersUpdate(next: Json, old: Json): StatusCause[] {
  const annotations = ((old.metadata as Json | undefined)?.annotations ?? {}) as Json;
  if (annotations['kubernetes.io/config.mirror'] !== undefined)
    return [forbidden('', 'static pods do not support ephemeral containers')];
  const now = new Map(listOf(specOf(next), 'ephemeralContainers').map((c) => [c.name, c]));
  const causes: StatusCause[] = [];
  for (const before of listOf(specOf(old), 'ephemeralContainers')) {
    const after = now.get(before.name);
    const name = JSON.stringify(before.name);
    if (!after)
      causes.push(
        forbidden('spec.ephemeralContainers', `existing ephemeral containers ${name} may not be removed\n`),
      );
    else if (!semanticEqual(after, before))
      causes.push(
        forbidden(
          'spec.ephemeralContainers',
          `existing ephemeral containers ${name} may not be changed\n${changedKeys(before, after)
            .map((k) => `${k} changed`)
            .join(', ')}`,
        ),
      );
  }
  return causes;
}
