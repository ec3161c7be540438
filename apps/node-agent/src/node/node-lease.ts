import { ApiError, type ApiClient, microTime, resourcePath } from '@app/client';
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

/**
 * Renews a node's heartbeat Lease in kube-node-lease (upstream's component-helpers lease
 * controller, staging/src/k8s.io/component-helpers/apimachinery/lease/controller.go sync):
 * update the cached Lease with a new renewTime; if that fails (conflict, gone, never read),
 * read it and update that, or create it.
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
    const { lease, created } = await this.getOrCreate();
    // A Lease just created carries a fresh renewTime: no update needed (upstream's sync skips it too).
    if (created) return (this.latest = lease);
    return (this.latest = await this.api.update<LeaseObject>(this.leasePath(), this.renewed(lease)));
  }

  private async getOrCreate(): Promise<{ lease: LeaseObject; created: boolean }> {
    try {
      return { lease: await this.api.get<LeaseObject>(this.leasePath()), created: false };
    } catch (e) {
      if (!(e instanceof ApiError) || e.code !== 404) throw e;
    }
    try {
      return { lease: await this.api.create<LeaseObject>(this.path, this.renewed(undefined)), created: true };
    } catch (e) {
      // Another writer created it between our read and create: use theirs.
      if (e instanceof ApiError && e.code === 409)
        return { lease: await this.api.get<LeaseObject>(this.leasePath()), created: false };
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
