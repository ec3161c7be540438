import { parseMilli, parseValue } from '@app/api';

import { type Resources } from './types.js';

/** Resource amounts in the API: quantity strings, or numbers from hand-written JSON. */
export type ResourceList = Readonly<Record<string, string | number>>;

export function emptyResources(): Resources {
  return { milliCPU: 0, memory: 0, ephemeralStorage: 0, pods: 0, scalar: new Map() };
}

/**
 * Resources the scheduler tracks besides cpu, memory, ephemeral-storage and pods (upstream's
 * IsScalarResourceName): extended and prefixed native resources (any name with a domain),
 * hugepages and attachable volumes.
 */
export function isScalarResourceName(name: string): boolean {
  return name.includes('/') || name.startsWith('hugepages-') || name.startsWith('attachable-volumes-');
}

type QuantityParser = (q: string | number) => number;

/**
 * Amounts already parsed, by parser and quantity string. Pods repeat a handful of request
 * strings ("100m", "500Mi"), and exact parsing (BigInt fractions) was 4.5 % of the scheduler's
 * CPU in SchedulingBasic. Bounded, so a stream of ever-new strings cannot grow it.
 */
const parsed = new Map<QuantityParser, Map<string, number>>();
const PARSED_LIMIT = 4096;

/** A quantity the API let through but we cannot read counts as nothing rather than stopping the scheduler. */
export function amount(parse: QuantityParser, q: string | number): number {
  if (typeof q === 'number') return parseOrZero(parse, q);
  let known = parsed.get(parse);
  if (known === undefined) parsed.set(parse, (known = new Map()));
  let value = known.get(q);
  if (value === undefined) {
    value = parseOrZero(parse, q);
    if (known.size >= PARSED_LIMIT) known.clear();
    known.set(q, value);
  }
  return value;
}

function parseOrZero(parse: QuantityParser, q: string | number): number {
  try {
    return parse(q);
  } catch {
    return 0;
  }
}

/** Adds a resource list (container requests, overhead, node allocatable) into `into`. */
export function addResourceList(into: Resources, list: ResourceList | undefined): void {
  if (list === undefined) return;
  for (const name in list) {
    const q = list[name];
    switch (name) {
      case 'cpu':
        into.milliCPU += amount(parseMilli, q);
        break;
      case 'memory':
        into.memory += amount(parseValue, q);
        break;
      case 'ephemeral-storage':
        into.ephemeralStorage += amount(parseValue, q);
        break;
      case 'pods':
        into.pods += amount(parseValue, q);
        break;
      default:
        if (isScalarResourceName(name))
          into.scalar.set(name, (into.scalar.get(name) ?? 0) + amount(parseValue, q));
    }
  }
}

export function resourcesFromList(list: ResourceList | undefined): Resources {
  const r = emptyResources();
  addResourceList(r, list);
  return r;
}

/** into += sign × r */
export function addResources(into: Resources, r: Resources, sign: 1 | -1 = 1): void {
  into.milliCPU += sign * r.milliCPU;
  into.memory += sign * r.memory;
  into.ephemeralStorage += sign * r.ephemeralStorage;
  into.pods += sign * r.pods;
  for (const [name, v] of r.scalar) into.scalar.set(name, (into.scalar.get(name) ?? 0) + sign * v);
}

/** into = max(into, r), resource by resource. */
export function maxResources(into: Resources, r: Resources): void {
  into.milliCPU = Math.max(into.milliCPU, r.milliCPU);
  into.memory = Math.max(into.memory, r.memory);
  into.ephemeralStorage = Math.max(into.ephemeralStorage, r.ephemeralStorage);
  into.pods = Math.max(into.pods, r.pods);
  for (const [name, v] of r.scalar) into.scalar.set(name, Math.max(into.scalar.get(name) ?? 0, v));
}
