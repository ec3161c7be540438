import { applyDefaults } from '../defaults/index.js';
import { type StatusCause } from '../errors/index.js';
import { labelSelectorFromObject, matchesLabels } from '../selectors/index.js';
import { validateConfigMap, validateSecret } from './config-data.js';
import {
  validateEphemeralContainers,
  validateEphemeralContainersUpdate,
  validatePodCreate,
  validateTemplateEphemeralContainers,
} from './ephemeral-containers.js';
import { validateHostPorts } from './host-ports.js';
import { type Json, listOf } from './pod-fields.js';
import { validatePodUpdate } from './pod-update.js';
import { RBAC_VALIDATORS, validateBindingUpdate } from './rbac.js';
import { dnsLabelErrors } from './object-meta.js';

function required(field: string): StatusCause {
  return { reason: 'FieldValueRequired', message: 'Required value', field };
}

function asObject(v: unknown): Json | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}

/**
 * The containers of a pod spec (init, regular and ephemeral) must each have a valid name
 * unique among all three lists, and an image; ephemeral containers have their own rules.
 */
export function validatePodSpec(spec: unknown, path: string): StatusCause[] {
  const s = asObject(spec);
  if (!s) return [required(path)];
  const causes: StatusCause[] = [];
  if (listOf(s, 'containers').length === 0) causes.push(required(`${path}.containers`));
  const seen = new Set<string>();
  for (const list of ['initContainers', 'containers', 'ephemeralContainers']) {
    listOf(s, list).forEach((c, i) => {
      const at = `${path}.${list}[${i}]`;
      if (typeof c.name !== 'string' || c.name === '') causes.push(required(`${at}.name`));
      else {
        for (const msg of dnsLabelErrors(c.name))
          causes.push({
            reason: 'FieldValueInvalid',
            message: `Invalid value: ${JSON.stringify(c.name)}: ${msg}`,
            field: `${at}.name`,
          });
        if (seen.has(c.name))
          causes.push({
            reason: 'FieldValueDuplicate',
            message: `Duplicate value: ${JSON.stringify(c.name)}`,
            field: `${at}.name`,
          });
        seen.add(c.name);
      }
      if (typeof c.image !== 'string' || c.image.trim() === '') causes.push(required(`${at}.image`));
    });
  }
  causes.push(...validateEphemeralContainers(s, path), ...validateHostPorts(s, path));
  return causes;
}

/** A template's pod spec: a pod spec that no created pod could have ephemeral containers in. */
function validatePodTemplateSpec(spec: unknown, path: string): StatusCause[] {
  const s = asObject(spec);
  return [...validatePodSpec(spec, path), ...(s ? validateTemplateEphemeralContainers(s, path) : [])];
}

/** A controller's selector must be present, non-empty, and select its own template. */
function validateSelectedTemplate(spec: Json, kindWord: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const selector = asObject(spec.selector);
  const template = asObject(spec.template);
  if (!selector) causes.push(required('spec.selector'));
  else if (!asObject(selector.matchLabels) && !Array.isArray(selector.matchExpressions))
    causes.push({
      reason: 'FieldValueInvalid',
      message: `Invalid value: ${JSON.stringify(selector)}: empty selector is invalid for ${kindWord}`,
      field: 'spec.selector',
    });
  if (!template) return [...causes, required('spec.template')];
  const labels = (asObject(asObject(template.metadata)?.labels) ?? {}) as Record<string, string>;
  if (selector && causes.length === 0) {
    try {
      if (!matchesLabels(labelSelectorFromObject(selector), labels))
        causes.push({
          reason: 'FieldValueInvalid',
          message: `Invalid value: ${JSON.stringify(labels)}: \`selector\` does not match template \`labels\``,
          field: 'spec.template.metadata.labels',
        });
    } catch (e) {
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${JSON.stringify(selector)}: ${(e as Error).message}`,
        field: 'spec.selector',
      });
    }
  }
  return [...causes, ...validatePodTemplateSpec(template.spec, 'spec.template.spec')];
}

function validateServiceSpec(o: Json): StatusCause[] {
  const spec = asObject(o.spec) ?? {};
  if (spec.type === 'ExternalName') return spec.externalName ? [] : [required('spec.externalName')];
  const ports = Array.isArray(spec.ports) ? (spec.ports as unknown[]) : [];
  if (ports.length === 0 && spec.clusterIP !== 'None') return [required('spec.ports')];
  const causes: StatusCause[] = [];
  ports.forEach((p, i) => {
    const port = asObject(p)?.port;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)
      causes.push({
        reason: port === undefined ? 'FieldValueRequired' : 'FieldValueInvalid',
        message:
          port === undefined
            ? 'Required value'
            : `Invalid value: ${JSON.stringify(port)}: must be between 1 and 65535, inclusive`,
        field: `spec.ports[${i}].port`,
      });
    if (ports.length > 1 && !asObject(p)?.name) causes.push(required(`spec.ports[${i}].name`));
  });
  return causes;
}

function validateReplicas(spec: Json): StatusCause[] {
  const r = spec.replicas;
  if (r === undefined) return [];
  return typeof r === 'number' && Number.isInteger(r) && r >= 0
    ? []
    : [
        {
          reason: 'FieldValueInvalid',
          message: `Invalid value: ${JSON.stringify(r)}: must be greater than or equal to 0`,
          field: 'spec.replicas',
        },
      ];
}

const VALIDATORS: Record<string, (o: Json) => StatusCause[]> = {
  '/pods': (o) => validatePodSpec(o.spec, 'spec'),
  '/configmaps': validateConfigMap,
  '/secrets': validateSecret,
  '/services': validateServiceSpec,
  '/replicationcontrollers': (o) => {
    const spec = asObject(o.spec) ?? {};
    return [
      ...validateReplicas(spec),
      ...validatePodTemplateSpec(asObject(spec.template)?.spec, 'spec.template.spec'),
    ];
  },
  'apps/deployments': (o) => [
    ...validateReplicas(asObject(o.spec) ?? {}),
    ...validateSelectedTemplate(asObject(o.spec) ?? {}, 'deployment'),
  ],
  'apps/replicasets': (o) => [
    ...validateReplicas(asObject(o.spec) ?? {}),
    ...validateSelectedTemplate(asObject(o.spec) ?? {}, 'replicaset'),
  ],
  'apps/statefulsets': (o) => [
    ...validateReplicas(asObject(o.spec) ?? {}),
    ...validateSelectedTemplate(asObject(o.spec) ?? {}, 'statefulset'),
  ],
  'apps/daemonsets': (o) => validateSelectedTemplate(asObject(o.spec) ?? {}, 'daemonset'),
  'batch/jobs': (o) =>
    validatePodTemplateSpec(asObject(asObject(o.spec)?.template)?.spec, 'spec.template.spec'),
  ...RBAC_VALIDATORS,
};

/** The kind-specific checks of the object stored as `<group>/<plural>`, after defaulting. */
export function validateKind(group: string, plural: string, o: Json): StatusCause[] {
  return VALIDATORS[`${group}/${plural}`]?.(o) ?? [];
}

/**
 * The kind-specific checks that depend on the write: a create (`old` undefined), an update, or
 * an update through `subresource`.
 */
export function validateKindChange(
  group: string,
  plural: string,
  next: Json,
  old: Json | undefined,
  subresource?: string,
): StatusCause[] {
  if (group === 'rbac.authorization.k8s.io' && plural.endsWith('rolebindings'))
    return old ? validateBindingUpdate(next, old) : [];
  if (group !== '' || plural !== 'pods') return [];
  if (!old) return validatePodCreate(next);
  // Through /status (the agents' frequent writes) the spec cannot change: nothing to compare.
  if (subresource !== undefined && subresource !== 'ephemeralcontainers') return [];
  // `next` is defaulted; the stored pod is defaulted as upstream's decoding does on every read,
  // so a default added since it was written is no change of the client's.
  const stored = structuredClone(old);
  applyDefaults(group, plural, stored);
  return subresource === 'ephemeralcontainers'
    ? validateEphemeralContainersUpdate(next, stored)
    : validatePodUpdate(next, stored);
}
