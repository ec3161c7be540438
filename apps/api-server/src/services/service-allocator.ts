import { randomInt } from 'node:crypto';

import {
  intToIp,
  ipToInt,
  type ResourceRegistry,
  type ResourceType,
  StatusError,
  type StatusCause,
} from '@app/api';
import { type AuditContext, type EventStore, type ObjectKey, type StoredObject } from '@app/event-store';

import { type WriteHook } from '../objects/object-service.js';
import { inRange, type Ipv4Range, parseCidr } from './ip-range.js';

/** The API server's service range unless --service-cluster-ip-range says otherwise. */
export const DEFAULT_SERVICE_CIDR = '10.96.0.0/16';

/** The address of the `kubernetes` Service: the range's first. */
export function apiServiceIp(range: Ipv4Range): string {
  return intToIp(range.first);
}

/**
 * The address of the `kube-dns` Service: the range's tenth (10.96.0.10 by default, what
 * kubeadm derives as the DNS address, cmd/kubeadm/app/constants GetDNSIP). Undefined in a
 * range too small.
 */
export function dnsServiceIp(range: Ipv4Range): string | undefined {
  const ip = range.first + 9;
  return ip <= range.last ? intToIp(ip) : undefined;
}

export interface ServiceAllocatorOptions {
  /** Default 10.96.0.0/16; its first address is the `kubernetes` Service's. */
  serviceCidr?: string;
  /** Default 30000-32767. */
  nodePortRange?: [number, number];
}

/** Random values tried before the claims of a range are read (see claimFree). */
const BLIND_PICKS = 3;

/** NodePorts have no Kubernetes object of their own: claims live in the store under this key. */
const NODE_PORT_CLAIMS = { group: 'internal.wake.dev', resource: 'nodeportclaims' };

interface Claim {
  key: ObjectKey;
  release(ctx: AuditContext): Promise<void>;
}

type Json = Record<string, unknown>;

/**
 * Gives Services their ClusterIP and NodePorts, uniquely under concurrent creates: an address
 * is claimed by creating the object named after it (an IPAddress, as upstream's allocator
 * does since 1.33; an internal claim for a NodePort), and the store's create-if-absent makes
 * exactly one claimant win. Claims are released when the Service goes, or when its create
 * fails; a claim whose Service never appeared (a crash in between) is found by `repair`.
 */
export class ServiceAllocator implements WriteHook {
  readonly range: Ipv4Range;
  private readonly ports: [number, number];

  constructor(
    private readonly store: EventStore,
    private readonly registry: ResourceRegistry,
    o: ServiceAllocatorOptions = {},
  ) {
    this.range = parseCidr(o.serviceCidr ?? DEFAULT_SERVICE_CIDR);
    this.ports = o.nodePortRange ?? [30000, 32767];
  }

  async beforeWrite(
    t: ResourceType,
    next: StoredObject,
    current: StoredObject | undefined,
    ctx: AuditContext,
  ) {
    if (!isServices(t)) return undefined;
    const claims = await this.allocate(next, ctx, current);
    return claims.length ? () => this.release(claims, ctx) : undefined;
  }

  async afterWrite(
    t: ResourceType,
    previous: StoredObject,
    next: StoredObject | undefined,
    ctx: AuditContext,
  ): Promise<void> {
    if (isServices(t)) await this.releaseFor(previous, ctx, next);
  }

  get apiServiceIp(): string {
    return apiServiceIp(this.range);
  }

  /** Never handed out dynamically, so it is free when the bootstrap asks for it. */
  get dnsServiceIp(): string | undefined {
    return dnsServiceIp(this.range);
  }

  /**
   * Claims what `service` needs (its requested or a free ClusterIP, its requested or free
   * NodePorts), writes them into it, and returns the claims so a failed create can release them.
   */
  async allocate(service: StoredObject, ctx: AuditContext, previous?: StoredObject): Promise<Claim[]> {
    const spec = (service.spec ??= {}) as Json;
    const name = String(service.metadata.name ?? '');
    const claims: Claim[] = [];
    try {
      const type = (spec.type as string | undefined) ?? 'ClusterIP';
      const before = (previous?.spec ?? {}) as Json;
      if (type === 'ExternalName') {
        delete spec.clusterIP;
        delete spec.clusterIPs;
      } else if (previous && before.clusterIP) {
        if (spec.clusterIP !== undefined && spec.clusterIP !== '' && spec.clusterIP !== before.clusterIP)
          throw invalid(name, [
            {
              reason: 'FieldValueInvalid',
              message: `Invalid value: ${JSON.stringify(spec.clusterIP)}: field is immutable`,
              field: 'spec.clusterIPs[0]',
            },
          ]);
        spec.clusterIP = before.clusterIP;
        spec.clusterIPs = before.clusterIPs ?? [before.clusterIP];
      } else if (spec.clusterIP !== 'None') {
        const ip = await this.claimIp(name, service, spec.clusterIP as string | undefined, ctx);
        claims.push(ip.claim);
        spec.clusterIP = ip.address;
        spec.clusterIPs = [ip.address];
      } else {
        spec.clusterIPs = ['None'];
      }
      const wantsNodePorts = type === 'NodePort' || type === 'LoadBalancer';
      const oldPorts = new Set(
        ((before.ports as Json[] | undefined) ?? []).map((p) => p.nodePort).filter(Boolean),
      );
      for (const [i, p] of ((spec.ports as Json[] | undefined) ?? []).entries()) {
        if (!wantsNodePorts) {
          delete p.nodePort;
          continue;
        }
        if (p.nodePort !== undefined && oldPorts.has(p.nodePort)) continue;
        const claim = await this.claimPort(name, service, p.nodePort as number | undefined, i, ctx);
        claims.push(claim.claim);
        p.nodePort = claim.port;
      }
      return claims;
    } catch (e) {
      await this.release(claims, ctx);
      throw e;
    }
  }

  /** Releases the claims of a Service that is gone, or of ports it no longer uses. */
  async releaseFor(service: StoredObject, ctx: AuditContext, keep?: StoredObject): Promise<void> {
    const spec = (service.spec ?? {}) as Json;
    const kept = new Set(
      (((keep?.spec as Json | undefined)?.ports as Json[] | undefined) ?? []).map((p) => p.nodePort),
    );
    const claims: Claim[] = [];
    if (!keep && typeof spec.clusterIP === 'string' && spec.clusterIP !== 'None')
      claims.push(this.claimOf(this.ipKey(spec.clusterIP)));
    for (const p of (spec.ports as Json[] | undefined) ?? [])
      if (typeof p.nodePort === 'number' && !kept.has(p.nodePort))
        claims.push(this.claimOf(this.portKey(p.nodePort)));
    await this.release(claims, ctx);
  }

  async release(claims: Claim[], ctx: AuditContext): Promise<void> {
    for (const c of claims) await c.release(ctx);
  }

  private async claimIp(
    name: string,
    service: StoredObject,
    requested: string | undefined,
    ctx: AuditContext,
  ) {
    if (requested) {
      if (ipToInt(requested) === undefined || !inRange(this.range, requested))
        throw invalid(name, [
          {
            reason: 'FieldValueInvalid',
            message: `Invalid value: [${JSON.stringify(requested)}]: failed to allocate IP ${requested}: the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${this.range.cidr}`,
            field: 'spec.clusterIPs',
          },
        ]);
      if (!(await this.tryClaim(this.ipKey(requested), this.ipAddressObject(requested, service), ctx)))
        throw invalid(name, [
          {
            reason: 'FieldValueInvalid',
            message: `Invalid value: [${JSON.stringify(requested)}]: failed to allocate IP ${requested}: provided IP is already allocated`,
            field: 'spec.clusterIPs',
          },
        ]);
      return { address: requested, claim: this.claimOf(this.ipKey(requested)) };
    }
    // The first address is the kubernetes Service's: dynamic allocation starts after it,
    // and passes over kube-dns's.
    const reserved = this.dnsServiceIp;
    const address = await this.claimFree(
      this.range.last - this.range.first,
      (i) => intToIp(this.range.first + 1 + i),
      (a) => this.ipKey(a),
      (a) => this.ipAddressObject(a, service),
      ctx,
      reserved === undefined ? undefined : new Set([reserved]),
    );
    if (address !== undefined) return { address, claim: this.claimOf(this.ipKey(address)) };
    throw StatusError.internal(`failed to allocate a serviceIP: range ${this.range.cidr} is full`);
  }

  private async claimPort(
    name: string,
    service: StoredObject,
    requested: number | undefined,
    index: number,
    ctx: AuditContext,
  ) {
    const [lo, hi] = this.ports;
    const object = { metadata: { name: '' }, spec: { service: `${service.metadata.namespace}/${name}` } };
    if (requested !== undefined) {
      if (!Number.isInteger(requested) || requested < lo || requested > hi)
        throw invalid(name, [
          {
            reason: 'FieldValueInvalid',
            message: `Invalid value: ${JSON.stringify(requested)}: provided port is not in the valid range. The range of valid ports is ${lo}-${hi}`,
            field: `spec.ports[${index}].nodePort`,
          },
        ]);
      if (
        !(await this.tryClaim(
          this.portKey(requested),
          { ...object, metadata: { name: String(requested) } },
          ctx,
        ))
      )
        throw invalid(name, [
          {
            reason: 'FieldValueInvalid',
            message: `Invalid value: ${requested}: provided port is already allocated`,
            field: `spec.ports[${index}].nodePort`,
          },
        ]);
      return { port: requested, claim: this.claimOf(this.portKey(requested)) };
    }
    const port = await this.claimFree(
      hi - lo + 1,
      (i) => String(lo + i),
      (p) => this.portKey(Number(p)),
      (p) => ({ ...object, metadata: { name: p } }),
      ctx,
    );
    if (port !== undefined) return { port: Number(port), claim: this.claimOf(this.portKey(Number(port))) };
    throw StatusError.internal(`failed to allocate a nodePort: range ${lo}-${hi} is full`);
  }

  /**
   * Claims a free value of a range of `size`. First a few random picks, reading nothing: in a
   * range that is not nearly full one of them is free (a /16 with 1,650 Services: 2.5% taken),
   * where reading every claim first made each create cost O(claims) — Services took a second
   * each to create at 1,000 nodes. Then, in a crowded range, the claims are read and a free value
   * is picked among them (a few times: a race is rare; a full range is not retried).
   */
  private async claimFree(
    size: number,
    valueAt: (i: number) => string,
    keyOf: (v: string) => ObjectKey,
    objectOf: (v: string) => StoredObject,
    ctx: AuditContext,
    reserved?: ReadonlySet<string>,
  ): Promise<string | undefined> {
    for (let attempt = 0; attempt < BLIND_PICKS; attempt++) {
      const pick = valueAt(randomInt(size));
      if (!reserved?.has(pick) && (await this.tryClaim(keyOf(pick), objectOf(pick), ctx))) return pick;
    }
    const ref = keyOf(valueAt(0));
    for (let attempt = 0; attempt < 8; attempt++) {
      const taken = new Set((await this.store.list(ref)).items.map((o) => o.metadata.name));
      for (const v of reserved ?? []) taken.add(v);
      // A window of free values from a random start: spread out, and found even in a nearly full range.
      const free: string[] = [];
      const start = randomInt(size);
      for (let i = 0; i < size && free.length < 4096; i++) {
        const v = valueAt((start + i) % size);
        if (!taken.has(v)) free.push(v);
      }
      if (free.length === 0) return undefined;
      const pick = free[randomInt(free.length)];
      if (await this.tryClaim(keyOf(pick), objectOf(pick), ctx)) return pick;
    }
    return undefined;
  }

  private async tryClaim(key: ObjectKey, object: StoredObject, ctx: AuditContext): Promise<boolean> {
    try {
      await this.store.create(key, object, { ...ctx, verb: 'create' });
      return true;
    } catch (e) {
      if (e instanceof StatusError && e.reason === 'AlreadyExists') return false;
      throw e;
    }
  }

  private claimOf(key: ObjectKey): Claim {
    return {
      key,
      release: async (ctx) => {
        await this.store.delete(key, { ...ctx, verb: 'delete' }).catch((e: unknown) => {
          if (!(e instanceof StatusError && e.reason === 'NotFound')) throw e;
        });
      },
    };
  }

  private ipKey(address: string): ObjectKey {
    const t = this.registry.get('networking.k8s.io', 'v1', 'ipaddresses');
    return { group: t.group, resource: t.plural, namespace: '', name: address };
  }

  private portKey(port: number): ObjectKey {
    return { ...NODE_PORT_CLAIMS, namespace: '', name: String(port) };
  }

  private ipAddressObject(address: string, service: StoredObject): StoredObject {
    return {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IPAddress',
      metadata: { name: address, labels: { 'ipaddress.kubernetes.io/managed-by': 'ipallocator.k8s.io' } },
      spec: {
        parentRef: {
          group: '',
          resource: 'services',
          namespace: service.metadata.namespace,
          name: service.metadata.name,
        },
      },
    };
  }
}

function isServices(t: ResourceType): boolean {
  return t.group === '' && t.plural === 'services';
}

function invalid(name: string, causes: StatusCause[]): StatusError {
  return StatusError.invalid({ kind: 'Service', resource: 'services', name }, causes);
}
