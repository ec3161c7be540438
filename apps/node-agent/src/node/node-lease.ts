import { ApiError, type ApiClient, resourcePath } from '@app/client';
import { type StoredObject } from '@app/event-store';

/** The namespace of node heartbeat Leases (KEP-589). */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

export interface LeaseObject extends StoredObject {
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    renewTime?: string;
  };
}

export interface NodeLeaseOptions {
  nodeName: string;
  /** nodeLeaseDurationSeconds: 40 upstream. */
  leaseDurationSeconds?: number;
  /** The Node's uid, for the owner reference that lets the garbage collector remove the Lease with its Node. */
  nodeUid?: () => string | undefined;
  now?: () => Date;
}

/** Lease timestamps are MicroTime: RFC 3339 with microseconds. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/Z$/, '000Z');
}

/**
 * Renews a node's heartbeat Lease in kube-node-lease (upstream's component-helpers lease
 * controller): update the cached Lease with a new renewTime; if that fails (conflict, gone,
 * never read), read or create it and update that.
 */
export class NodeLeaseRenewer {
  private latest?: LeaseObject;
  private readonly path: string;

  constructor(
    private readonly api: ApiClient,
    private readonly o: NodeLeaseOptions,
  ) {
    this.path = resourcePath({
      group: 'coordination.k8s.io',
      version: 'v1',
      plural: 'leases',
      namespace: NODE_LEASE_NAMESPACE,
    });
  }

  /** One renewal; throws when the API refused it twice. */
  async renew(): Promise<LeaseObject> {
    if (this.latest) {
      try {
        return (this.latest = await this.api.update<LeaseObject>(
          this.leasePath(),
          this.renewed(this.latest),
        ));
      } catch (e) {
        // A conflict or a deleted Lease: read it again below. Anything else is real trouble.
        if (!(e instanceof ApiError) || (e.code !== 409 && e.code !== 404)) throw e;
        this.latest = undefined;
      }
    }
    const current = await this.getOrCreate();
    return (this.latest = await this.api.update<LeaseObject>(this.leasePath(), this.renewed(current)));
  }

  private async getOrCreate(): Promise<LeaseObject> {
    try {
      return await this.api.get<LeaseObject>(this.leasePath());
    } catch (e) {
      if (!(e instanceof ApiError) || e.code !== 404) throw e;
    }
    try {
      return await this.api.create<LeaseObject>(this.path, this.renewed(undefined));
    } catch (e) {
      // Another writer created it between our read and create: use theirs.
      if (e instanceof ApiError && e.code === 409) return this.api.get<LeaseObject>(this.leasePath());
      throw e;
    }
  }

  private renewed(base: LeaseObject | undefined): LeaseObject {
    const uid = this.o.nodeUid?.();
    const owners = uid
      ? [{ apiVersion: 'v1', kind: 'Node', name: this.o.nodeName, uid }]
      : base?.metadata.ownerReferences;
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      ...base,
      metadata: {
        ...base?.metadata,
        name: this.o.nodeName,
        namespace: NODE_LEASE_NAMESPACE,
        ...(owners ? { ownerReferences: owners } : {}),
      },
      spec: {
        ...base?.spec,
        holderIdentity: this.o.nodeName,
        leaseDurationSeconds: this.o.leaseDurationSeconds ?? 40,
        renewTime: microTime(this.o.now?.() ?? new Date()),
      },
    } as LeaseObject;
  }

  private leasePath(): string {
    return `${this.path}/${encodeURIComponent(this.o.nodeName)}`;
  }
}
