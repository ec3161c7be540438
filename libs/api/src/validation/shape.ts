import { type StatusCause } from '../errors/index.js';

/**
 * The JSON types of the fields that defaulting and admission walk into. Upstream decodes into
 * typed structs, so `containers: [true]` never reaches its defaulting; here the object stays
 * JSON, and this check runs first, so every later step may trust these shapes.
 */
type Shape = { object: Record<string, Shape> } | { list: Shape };

const OBJECT: Shape = { object: {} };
const objectOf = (fields: Record<string, Shape>): Shape => ({ object: fields });
const listOf = (item: Shape): Shape => ({ list: item });

const CONTAINERS = listOf(
  objectOf({
    ports: listOf(OBJECT),
    env: listOf(objectOf({ valueFrom: objectOf({ fieldRef: OBJECT }) })),
    envFrom: listOf(OBJECT),
    volumeMounts: listOf(OBJECT),
    resources: objectOf({ limits: OBJECT, requests: OBJECT }),
  }),
);

const POD_SPEC = objectOf({
  containers: CONTAINERS,
  initContainers: CONTAINERS,
  volumes: listOf(objectOf({ secret: OBJECT, configMap: OBJECT, projected: OBJECT })),
  tolerations: listOf(OBJECT),
  securityContext: OBJECT,
});

const POD_TEMPLATE = objectOf({ metadata: objectOf({ labels: OBJECT }), spec: POD_SPEC });
const SELECTOR = objectOf({ matchLabels: OBJECT, matchExpressions: listOf(OBJECT) });
const WORKLOAD = objectOf({
  spec: objectOf({
    selector: SELECTOR,
    template: POD_TEMPLATE,
    strategy: objectOf({ rollingUpdate: OBJECT }),
    updateStrategy: objectOf({ rollingUpdate: OBJECT }),
  }),
});

const SHAPES: Record<string, Shape> = {
  '/pods': objectOf({ spec: POD_SPEC, status: OBJECT }),
  '/replicationcontrollers': objectOf({ spec: objectOf({ selector: OBJECT, template: POD_TEMPLATE }) }),
  'apps/deployments': WORKLOAD,
  'apps/replicasets': WORKLOAD,
  'apps/statefulsets': WORKLOAD,
  'apps/daemonsets': WORKLOAD,
  'batch/jobs': objectOf({ spec: objectOf({ selector: SELECTOR, template: POD_TEMPLATE }) }),
  'batch/cronjobs': objectOf({
    spec: objectOf({ jobTemplate: objectOf({ spec: objectOf({ template: POD_TEMPLATE }) }) }),
  }),
};

function check(value: unknown, shape: Shape, field: string, causes: StatusCause[], item = false): void {
  // An absent (or null) field is fine; an absent list item is not.
  if (!item && (value === undefined || value === null)) return;
  if ('list' in shape) {
    if (!Array.isArray(value)) {
      causes.push({ reason: 'FieldValueTypeInvalid', message: 'Invalid value: must be a list', field });
      return;
    }
    value.forEach((x, i) => check(x, shape.list, `${field}[${i}]`, causes, true));
    return;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    causes.push({ reason: 'FieldValueTypeInvalid', message: 'Invalid value: must be an object', field });
    return;
  }
  for (const [key, inner] of Object.entries(shape.object))
    if (Object.hasOwn(value, key))
      check((value as Record<string, unknown>)[key], inner, field ? `${field}.${key}` : key, causes);
}

/** Fields of `o` (stored as `<group>/<plural>`) whose JSON type is not the one its kind has. */
export function validateShape(group: string, plural: string, o: Record<string, unknown>): StatusCause[] {
  const shape = SHAPES[`${group}/${plural}`];
  if (!shape) return [];
  const causes: StatusCause[] = [];
  check(o, shape, '', causes);
  return causes;
}
