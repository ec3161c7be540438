import { type Endpoint, type SlicePort } from './slice-types.js';

/**
 * endpointsliceutil.hashEndpoint: what makes an endpoint the same endpoint across syncs — its
 * addresses, hostname and target — so that a change of anything else (conditions, node, zone)
 * is an update of it in place rather than a removal and an addition.
 */
export function endpointKey(e: Endpoint): string {
  return JSON.stringify([
    e.addresses,
    e.hostname ?? '',
    e.targetRef?.namespace ?? '',
    e.targetRef?.name ?? '',
  ]);
}

/** endpointsliceutil.EndpointsEqualBeyondHash. */
export function endpointsEqualBeyondHash(a: Endpoint, b: Endpoint): boolean {
  return (
    (a.nodeName ?? '') === (b.nodeName ?? '') &&
    (a.zone ?? '') === (b.zone ?? '') &&
    a.conditions?.ready === b.conditions?.ready &&
    a.conditions?.serving === b.conditions?.serving &&
    a.conditions?.terminating === b.conditions?.terminating &&
    JSON.stringify(a.hints ?? null) === JSON.stringify(b.hints ?? null) &&
    (a.targetRef?.kind ?? '') === (b.targetRef?.kind ?? '') &&
    (a.targetRef?.namespace ?? '') === (b.targetRef?.namespace ?? '') &&
    (a.targetRef?.name ?? '') === (b.targetRef?.name ?? '') &&
    (a.targetRef?.uid ?? '') === (b.targetRef?.uid ?? '') &&
    (a.targetRef?.resourceVersion ?? '') === (b.targetRef?.resourceVersion ?? '')
  );
}

/** endpointsliceutil.NewPortMapKey: one key per set of ports, whatever their order. */
export function portMapKey(ports: readonly SlicePort[] | null | undefined): string {
  return JSON.stringify(
    (ports ?? [])
      .map((p) => [p.name ?? '', p.protocol ?? '', p.port ?? 0, p.appProtocol ?? ''])
      .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)),
  );
}

/** endpointsliceutil.EndpointSet: desired endpoints by key, taken from in insertion order. */
export class EndpointSet {
  private readonly items = new Map<string, Endpoint>();

  insert(e: Endpoint): void {
    this.items.set(endpointKey(e), e);
  }

  get(e: Endpoint): Endpoint | undefined {
    return this.items.get(endpointKey(e));
  }

  delete(e: Endpoint): void {
    this.items.delete(endpointKey(e));
  }

  get size(): number {
    return this.items.size;
  }

  /** PopAny: upstream takes whichever; the first inserted keeps the result deterministic. */
  pop(): Endpoint | undefined {
    const first = this.items.entries().next();
    if (first.done) return undefined;
    this.items.delete(first.value[0]);
    return first.value[1];
  }
}
