import { jsonEqual } from '../apply/object-fields.js';
import { type StatusCause } from '../errors/index.js';

type Json = Record<string, unknown>;

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

/** Go's zero value, which the reflection-based check lets through (`resources: {}` is defaulted). */
function isZero(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.values(v as Json).every(isZero);
  return false;
}

function forbidden(field: string, message: string): StatusCause {
  return { reason: 'FieldValueForbidden', message: `Forbidden: ${message}`, field };
}

function list(spec: Json, field: string): Json[] {
  const v = spec[field];
  return Array.isArray(v) ? (v as unknown[]).map((x) => (x && typeof x === 'object' ? (x as Json) : {})) : [];
}

/**
 * validateEphemeralContainers (pkg/apis/core/validation): what an ephemeral container may not
 * set, its volume mounts without subPath, and a target among the pod's regular or init
 * containers. Names and images are checked with the other containers' (validatePodSpec).
 */
export function validateEphemeralContainers(spec: Json, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const targets = new Set(
    [...list(spec, 'containers'), ...list(spec, 'initContainers')].map((c) => c.name).filter(Boolean),
  );
  list(spec, 'ephemeralContainers').forEach((c, i) => {
    const at = `${path}.ephemeralContainers[${i}]`;
    for (const field of FORBIDDEN_FIELDS)
      if (!isZero(c[field]))
        causes.push(forbidden(`${at}.${field}`, 'cannot be set for an Ephemeral Container'));
    list(c, 'volumeMounts').forEach((m, j) => {
      for (const field of ['subPath', 'subPathExpr'])
        if (!isZero(m[field]))
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
  const spec = pod.spec && typeof pod.spec === 'object' ? (pod.spec as Json) : {};
  return list(spec, 'ephemeralContainers').length > 0
    ? [forbidden('spec.ephemeralContainers', 'cannot be set on create')]
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
  const specOf = (pod: Json) => (pod.spec && typeof pod.spec === 'object' ? (pod.spec as Json) : {});
  const now = new Map(list(specOf(next), 'ephemeralContainers').map((c) => [c.name, c]));
  const causes: StatusCause[] = [];
  for (const before of list(specOf(old), 'ephemeralContainers')) {
    const after = now.get(before.name);
    const name = JSON.stringify(before.name);
    if (!after)
      causes.push(
        forbidden('spec.ephemeralContainers', `existing ephemeral containers ${name} may not be removed\n`),
      );
    else if (!jsonEqual(after, before))
      causes.push(
        forbidden(
          'spec.ephemeralContainers',
          `existing ephemeral containers ${name} may not be changed\n${changedFields(before, after).join(', ')}`,
        ),
      );
  }
  return causes;
}

/** The top-level fields that differ, in place of upstream's cmp.Diff of the two containers. */
function changedFields(before: Json, after: Json): string[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys.filter((k) => !jsonEqual(before[k], after[k])).map((k) => `${k} changed`);
}
