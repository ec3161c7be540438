/**
 * How strategic merge patch and apply treat each list field of the built-in kinds: upstream's
 * `patchStrategy`/`patchMergeKey` struct tags in k8s.io/api (published in OpenAPI as
 * `x-kubernetes-patch-strategy`/`x-kubernetes-patch-merge-key`). A list field not named here is
 * atomic: a patch replaces it whole.
 *
 * Field names alone are ambiguous (`ports` of a container merge by `containerPort`, a
 * Service's by `port`, an EndpointSlice's not at all), so a rule may name the parent field the
 * list must sit under; the path is the chain of field names from the object root, list
 * indices left out.
 */
export interface ListStrategy {
  /** The item field that identifies an element; absent for sets of primitives. */
  readonly mergeKey?: string;
  /** `retainKeys` as well: clients may send `$retainKeys` for the elements (volumes, resourceClaims). */
  readonly retainKeys?: boolean;
}

interface Rule extends ListStrategy {
  readonly field: string;
  /** The list must sit directly under one of these fields (`[]` means at the object root). */
  readonly parents?: readonly string[];
}

const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'];
const POD_SPEC_PARENTS = ['spec'];

const RULES: readonly Rule[] = [
  // ObjectMeta
  { field: 'finalizers', parents: ['metadata'] },
  { field: 'ownerReferences', mergeKey: 'uid', parents: ['metadata'] },
  // PodSpec (a pod's `spec`, or the `spec` of any pod template)
  { field: 'containers', mergeKey: 'name', parents: POD_SPEC_PARENTS },
  { field: 'initContainers', mergeKey: 'name', parents: POD_SPEC_PARENTS },
  { field: 'ephemeralContainers', mergeKey: 'name', parents: POD_SPEC_PARENTS },
  { field: 'volumes', mergeKey: 'name', retainKeys: true, parents: POD_SPEC_PARENTS },
  { field: 'imagePullSecrets', mergeKey: 'name', parents: POD_SPEC_PARENTS },
  { field: 'hostAliases', mergeKey: 'ip', parents: POD_SPEC_PARENTS },
  { field: 'topologySpreadConstraints', mergeKey: 'topologyKey', parents: POD_SPEC_PARENTS },
  { field: 'resourceClaims', mergeKey: 'name', retainKeys: true, parents: POD_SPEC_PARENTS },
  { field: 'schedulingGates', mergeKey: 'name', parents: POD_SPEC_PARENTS },
  // Container
  { field: 'ports', mergeKey: 'containerPort', parents: CONTAINER_LISTS },
  { field: 'env', mergeKey: 'name', parents: CONTAINER_LISTS },
  { field: 'volumeMounts', mergeKey: 'mountPath', parents: CONTAINER_LISTS },
  { field: 'volumeDevices', mergeKey: 'devicePath', parents: CONTAINER_LISTS },
  // ServiceSpec
  { field: 'ports', mergeKey: 'port', parents: ['spec'] },
  // NodeSpec, NodeStatus
  { field: 'podCIDRs', parents: ['spec'] },
  { field: 'addresses', mergeKey: 'type', parents: ['status'] },
  // Statuses: conditions of every kind, pod IPs
  { field: 'conditions', mergeKey: 'type', parents: ['status'] },
  { field: 'podIPs', mergeKey: 'ip', parents: ['status'] },
  { field: 'hostIPs', mergeKey: 'ip', parents: ['status'] },
  { field: 'resourceClaimStatuses', mergeKey: 'name', retainKeys: true, parents: ['status'] },
  // ServiceAccount
  { field: 'secrets', mergeKey: 'name', parents: [] },
];

const BY_FIELD = new Map<string, Rule[]>();
for (const rule of RULES) BY_FIELD.set(rule.field, [...(BY_FIELD.get(rule.field) ?? []), rule]);

/**
 * The strategy of the list at `field` under `parentPath` (field names from the root), or
 * undefined when the list is atomic. A Service's and a pod's `spec.ports` differ only by what
 * holds them: a pod spec has no `ports`, so `spec` → `port` is safe for both.
 */
export function listStrategy(field: string, parentPath: readonly string[]): ListStrategy | undefined {
  const rules = BY_FIELD.get(field);
  if (!rules) return undefined;
  const parent = parentPath.length ? parentPath[parentPath.length - 1] : undefined;
  return rules.find((r) =>
    r.parents === undefined
      ? true
      : parent === undefined
        ? r.parents.length === 0
        : r.parents.includes(parent),
  );
}
