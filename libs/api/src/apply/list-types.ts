/**
 * How server-side apply treats each list and map of the built-in kinds, in place of the OpenAPI
 * schema upstream reads them from. The entries are upstream's Go markers in k8s.io/api (1.33):
 * `+listType=map` with its `+listMapKey`s, `+listType=set`, `+structType=atomic` and
 * `+mapType=atomic`. A list not named here is atomic (upstream's default for lists without a
 * marker); an object is granular unless named atomic here.
 *
 * Lookups take the field names from the object's root to the field (list items contribute
 * nothing), e.g. `['spec', 'template', 'spec', 'containers', 'ports']`.
 */
export type ListType =
  | { type: 'map'; keys: readonly string[]; defaults?: Readonly<Record<string, unknown>> }
  | { type: 'set' }
  | { type: 'atomic' };

/** Which object a field path belongs to: group and plural of the kind at the root. */
export interface KindRef {
  group: string;
  plural: string;
}

const CONTAINER_LISTS = new Set(['containers', 'initContainers', 'ephemeralContainers']);
const ATOMIC: ListType = { type: 'atomic' };
const SET: ListType = { type: 'set' };
const byKeys = (...keys: string[]): ListType => ({ type: 'map', keys });

/** Associative lists whose meaning does not depend on where they appear. */
const MAP_LISTS: Record<string, ListType> = {
  containers: byKeys('name'),
  initContainers: byKeys('name'),
  ephemeralContainers: byKeys('name'),
  volumes: byKeys('name'),
  imagePullSecrets: byKeys('name'),
  hostAliases: byKeys('ip'),
  topologySpreadConstraints: byKeys('topologyKey', 'whenUnsatisfiable'),
  schedulingGates: byKeys('name'),
  resourceClaims: byKeys('name'),
  ownerReferences: byKeys('uid'),
  webhooks: byKeys('name'),
};

/** Lists of container fields (Container and EphemeralContainer). */
const CONTAINER_FIELDS: Record<string, ListType> = {
  // protocol is part of the key and defaults to TCP, as upstream's schema says.
  ports: { type: 'map', keys: ['containerPort', 'protocol'], defaults: { protocol: 'TCP' } },
  env: byKeys('name'),
  volumeMounts: byKeys('mountPath'),
  volumeDevices: byKeys('devicePath'),
};

/** Objects (structs or maps) that are replaced as a whole: LabelSelector, NodeSelector, the key selectors, ObjectReference. */
const ATOMIC_OBJECTS = new Set([
  'selector',
  'podSelector',
  'namespaceSelector',
  'labelSelector',
  'nodeSelector',
  'configMapKeyRef',
  'secretKeyRef',
  'fieldRef',
  'resourceFieldRef',
  'targetRef',
  'claimRef',
  'roleRef',
  'scaleTargetRef',
]);

/**
 * Maps from arbitrary keys to values (not structs): removing one of their keys never removes
 * the map itself, unlike a struct field the applier stopped setting.
 */
const KEYED_MAPS = new Set([
  'labels',
  'annotations',
  'data',
  'binaryData',
  'stringData',
  'limits',
  'requests',
  'capacity',
  'allocatable',
  'hard',
  'used',
]);

export function listTypeOf(kind: KindRef, path: readonly string[]): ListType {
  const field = path[path.length - 1];
  const parent = path[path.length - 2];
  if (parent !== undefined && CONTAINER_LISTS.has(parent) && CONTAINER_FIELDS[field])
    return CONTAINER_FIELDS[field];
  if (field === 'ports' && kind.group === '' && kind.plural === 'services' && path.length === 2)
    return { type: 'map', keys: ['port', 'protocol'], defaults: { protocol: 'TCP' } };
  if (field === 'claims' && parent === 'resources') return byKeys('name');
  if (field === 'finalizers' && parent === 'metadata' && path.length === 2) return SET;
  if (field === 'podCIDRs') return SET;
  if (parent === 'status') {
    if (field === 'conditions')
      return kind.group === 'batch' && kind.plural === 'jobs' ? ATOMIC : byKeys('type');
    if (field === 'podIPs' || field === 'hostIPs') return byKeys('ip');
    if (field === 'addresses' && kind.plural === 'nodes') return byKeys('type');
  }
  return MAP_LISTS[field] ?? ATOMIC;
}

export function isAtomicObject(path: readonly string[]): boolean {
  const field = path[path.length - 1];
  // nodeAffinity.requiredDuringScheduling… is a NodeSelector (atomic); the pod-affinity lists are atomic lists anyway.
  if (field === 'requiredDuringSchedulingIgnoredDuringExecution') return true;
  return ATOMIC_OBJECTS.has(field);
}

/** Whether the object at `path` is a struct (its fields are members of a field set for pruning) rather than a keyed map. */
export function isStruct(path: readonly string[]): boolean {
  return !KEYED_MAPS.has(path[path.length - 1]);
}
