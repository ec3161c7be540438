import { shouldPodBeInEndpoints } from '../endpoints/endpoint-pods.js';
import { type Node, type Service } from '../endpoints/service-types.js';
import { type Pod } from '../replicaset/pod-types.js';
import { EndpointSet, endpointsEqualBeyondHash, portMapKey } from './endpoint-set.js';
import {
  type AddressType,
  addressTypesForService,
  endpointPorts,
  newEndpointSlice,
  ownedBy,
  podToEndpoint,
  sliceLabels,
} from './slice-objects.js';
import { type Endpoint, type EndpointSlice, MAX_ENDPOINTS_PER_SLICE, type SlicePort } from './slice-types.js';

/** What one reconcile writes: new slices (no name yet), changed slices, slices to delete. */
export interface SlicePlan {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
  /** Pods left out because their node is not known (the Service is synced again later). */
  errors: Error[];
  /** Those nodes: their arrival is what the Service waits for. */
  missingNodes: string[];
}

export interface PlanInput {
  service: Service;
  pods: readonly Pod[];
  /** The slices of this Service managed by this controller, those pending deletion dropped. */
  existing: readonly EndpointSlice[];
  node: (name: string) => Node | undefined;
  maxEndpointsPerSlice?: number;
}

const clone = (s: EndpointSlice): EndpointSlice => structuredClone(s);

/**
 * Reconciler.Reconcile (staging/src/k8s.io/endpointslice/reconciler.go): slices of address
 * types the Service no longer has are deleted; each of its address types is reconciled apart.
 * Then finalize's first step: a slice to create takes the place of one to delete (same
 * address type, owned by this Service) — an update instead of a create and a delete.
 */
export function planSlices(input: PlanInput): SlicePlan {
  const types = addressTypesForService(input.service);
  const plan: SlicePlan = { create: [], update: [], delete: [], errors: [], missingNodes: [] };
  const byType = new Map<string, EndpointSlice[]>();
  for (const s of input.existing) {
    if (!types.includes(s.addressType as AddressType)) plan.delete.push(s);
    else byType.set(s.addressType, [...(byType.get(s.addressType) ?? []), s]);
  }
  // finalize works per address type upstream too: deletions of dropped types are separate.
  const dropped = plan.delete.splice(0);
  for (const t of types) {
    const p = reconcileByAddressType(input, byType.get(t) ?? [], t);
    plan.create.push(...p.create);
    plan.update.push(...p.update);
    plan.delete.push(...p.delete);
    plan.errors.push(...p.errors);
    plan.missingNodes.push(...p.missingNodes);
  }
  plan.delete.push(...dropped);
  return plan;
}

/** reconcileByAddressType, with the placeholder slice of a Service without endpoints. */
function reconcileByAddressType(
  input: PlanInput,
  existing: EndpointSlice[],
  addressType: AddressType,
): SlicePlan {
  const { service } = input;
  const plan: SlicePlan = { create: [], update: [], delete: [], errors: [], missingNodes: [] };
  const existingByPorts = new Map<string, EndpointSlice[]>();
  for (const s of existing) {
    if (!ownedBy(s, service)) {
      plan.delete.push(s);
      continue;
    }
    const k = portMapKey(s.ports);
    existingByPorts.set(k, [...(existingByPorts.get(k) ?? []), s]);
  }
  const desired = new Map<string, { ports: SlicePort[]; endpoints: EndpointSet }>();
  for (const pod of input.pods) {
    if (!shouldPodBeInEndpoints(pod, true)) continue;
    const ports = endpointPorts(service, pod);
    const k = portMapKey(ports);
    let entry = desired.get(k);
    if (!entry) desired.set(k, (entry = { ports, endpoints: new EndpointSet() }));
    const nodeName = pod.spec?.nodeName ?? '';
    const node = input.node(nodeName);
    if (!node && !service.spec?.publishNotReadyAddresses) {
      // A pod on a node not (yet) known: left out for now, the Service retried.
      plan.missingNodes.push(nodeName);
      plan.errors.push(
        new Error(
          `skipping Pod ${pod.metadata.name} for Service ${service.metadata.namespace}/${service.metadata.name}: Node ${nodeName} Not Found`,
        ),
      );
      continue;
    }
    const endpoint = podToEndpoint(pod, node, service, addressType);
    if (endpoint.addresses.length > 0) entry.endpoints.insert(endpoint);
  }
  const max = input.maxEndpointsPerSlice ?? MAX_ENDPOINTS_PER_SLICE;
  for (const [k, { ports, endpoints }] of desired) {
    const p = reconcileByPortMapping(
      service,
      existingByPorts.get(k) ?? [],
      endpoints,
      ports,
      addressType,
      max,
    );
    plan.create.push(...p.create);
    plan.update.push(...p.update);
    plan.delete.push(...p.delete);
  }
  for (const [k, slices] of existingByPorts) if (!desired.has(k)) plan.delete.push(...slices);
  // When no slices would otherwise exist, a placeholder without ports or endpoints stands in.
  if (existing.length === plan.delete.length && plan.create.length === 0) {
    const placeholder = newEndpointSlice(service, [], addressType);
    if (plan.delete.length === 1 && isPlaceholderLike(plan.delete[0], placeholder)) plan.delete = [];
    else plan.create.push(placeholder);
  }
  finalizeSwaps(service, plan, addressType);
  return plan;
}

/** placeholderSliceCompare: same namespace, labels, address type, and no ports or endpoints. */
function isPlaceholderLike(s: EndpointSlice, placeholder: EndpointSlice): boolean {
  const [a, b] = [s.metadata.labels ?? {}, placeholder.metadata.labels ?? {}];
  return (
    s.metadata.namespace === placeholder.metadata.namespace &&
    Object.keys(a).length === Object.keys(b).length &&
    Object.entries(a).every(([k, v]) => b[k] === v) &&
    s.addressType === placeholder.addressType &&
    (s.ports ?? []).length === 0 &&
    (s.endpoints ?? []).length === 0
  );
}

/**
 * finalize's swap: while there are slices both to create and to delete, the last to create
 * takes the name of one to delete (same address type, owned by this Service) and becomes an
 * update of it.
 */
function finalizeSwaps(service: Service, plan: SlicePlan, addressType: AddressType): void {
  for (let i = 0; i < plan.delete.length && plan.create.length > 0;) {
    const victim = plan.delete[i];
    if (victim.addressType === addressType && ownedBy(victim, service)) {
      const slice = plan.create.pop()!;
      slice.metadata.name = victim.metadata.name;
      delete slice.metadata.generateName;
      plan.update.push(slice);
      plan.delete.splice(i, 1);
    } else i++;
  }
}

/**
 * reconcileByPortMapping: (1) existing slices keep the endpoints still desired, updated in
 * place, and are deleted when none remain; (2) the leftover endpoints first fill the slices
 * being updated anyway, fullest first; (3) what remains goes, when it fits, into the unchanged
 * slice it fills closest to full, else into new slices. Few writes, few slices.
 */
function reconcileByPortMapping(
  service: Service,
  existing: EndpointSlice[],
  desired: EndpointSet,
  ports: SlicePort[],
  addressType: AddressType,
  max: number,
): { create: EndpointSlice[]; update: EndpointSlice[]; delete: EndpointSlice[] } {
  const byName = new Map<string, EndpointSlice>();
  const unchanged = new Set<string>();
  const toUpdate = new Set<string>();
  const toDelete = new Set<string>();
  for (const slice of existing) {
    const name = slice.metadata.name ?? '';
    byName.set(name, slice);
    const kept: Endpoint[] = [];
    let endpointUpdated = false;
    for (const endpoint of slice.endpoints ?? []) {
      const want = desired.get(endpoint);
      if (!want) continue;
      kept.push(want);
      if (!endpointsEqualBeyondHash(want, endpoint)) endpointUpdated = true;
      desired.delete(endpoint);
    }
    const { labels, changed: labelsChanged } = sliceLabels(slice, service);
    if (endpointUpdated || (slice.endpoints ?? []).length !== kept.length) {
      if (kept.length === 0) toDelete.add(name);
      else {
        const copy = clone(slice);
        copy.endpoints = kept;
        copy.metadata.labels = labels;
        byName.set(name, copy);
        toUpdate.add(name);
      }
    } else if (labelsChanged) {
      const copy = clone(slice);
      copy.metadata.labels = labels;
      byName.set(name, copy);
      toUpdate.add(name);
    } else unchanged.add(name);
  }
  if (desired.size > 0 && toUpdate.size > 0) {
    const fullestFirst = [...toUpdate]
      .map((n) => byName.get(n)!)
      .sort((a, b) => (b.endpoints ?? []).length - (a.endpoints ?? []).length);
    for (const slice of fullestFirst) {
      const endpoints = (slice.endpoints ??= []);
      while (desired.size > 0 && endpoints.length < max) endpoints.push(desired.pop()!);
    }
  }
  const create: EndpointSlice[] = [];
  while (desired.size > 0) {
    let fill: EndpointSlice | undefined;
    if (desired.size < max && unchanged.size > 0)
      fill = sliceToFill(
        [...unchanged].map((n) => byName.get(n)!),
        desired.size,
        max,
      );
    if (!fill) fill = newEndpointSlice(service, ports, addressType);
    else {
      fill = clone(fill);
      byName.set(fill.metadata.name ?? '', fill);
    }
    const endpoints = (fill.endpoints ??= []);
    while (desired.size > 0 && endpoints.length < max) endpoints.push(desired.pop()!);
    if (fill.metadata.name) {
      toUpdate.add(fill.metadata.name);
      unchanged.delete(fill.metadata.name);
    } else create.push(fill);
  }
  return {
    create,
    update: [...toUpdate].map((n) => byName.get(n)!),
    delete: [...toDelete].map((n) => byName.get(n)!),
  };
}

/** getSliceToFill: the slice that `count` more endpoints bring closest to full without overflowing it. */
function sliceToFill(slices: EndpointSlice[], count: number, max: number): EndpointSlice | undefined {
  let closestDiff = max;
  let closest: EndpointSlice | undefined;
  for (const s of slices) {
    const diff = max - (count + (s.endpoints ?? []).length);
    if (diff >= 0 && diff < closestDiff) {
      closestDiff = diff;
      closest = s;
      if (diff === 0) return s;
    }
  }
  return closest;
}
