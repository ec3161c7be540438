import { describe, expect, it } from '@jest/globals';

import { ResourceRegistry, StatusError } from '@app/api';
import { type AuditContext, type EventStore, type ObjectKey, type StoredObject } from '@app/event-store';

import { ServiceAllocator } from './service-allocator.js';

const ctx: AuditContext = { actor: { user: 'test', groups: [] }, verb: 'create' };

/** The store's create-if-absent, delete and list over a map; counts the lists. */
class ClaimStore {
  readonly objects = new Map<string, StoredObject>();
  lists = 0;

  private id(k: ObjectKey): string {
    return `${k.group}/${k.resource}/${k.namespace}/${k.name}`;
  }

  create(key: ObjectKey, object: StoredObject): Promise<unknown> {
    const id = this.id(key);
    if (this.objects.has(id)) return Promise.reject(StatusError.alreadyExists(key));
    this.objects.set(id, object);
    return Promise.resolve({ object });
  }

  delete(key: ObjectKey): Promise<unknown> {
    return this.objects.delete(this.id(key))
      ? Promise.resolve({})
      : Promise.reject(StatusError.notFound(key));
  }

  list(ref: ObjectKey): Promise<{ items: StoredObject[] }> {
    this.lists++;
    const prefix = `${ref.group}/${ref.resource}/`;
    return Promise.resolve({
      items: [...this.objects].filter(([id]) => id.startsWith(prefix)).map(([, o]) => o),
    });
  }
}

function allocator(store: ClaimStore, o: ConstructorParameters<typeof ServiceAllocator>[2] = {}) {
  // The allocator uses create, delete and list of the store alone.
  return new ServiceAllocator(store as unknown as EventStore, new ResourceRegistry(), o);
}

const service = (name: string, spec: Record<string, unknown> = {}): StoredObject => ({
  metadata: { name, namespace: 'default' },
  spec: { ports: [{ port: 80 }], ...spec },
});

describe('service allocator', () => {
  it('claims ClusterIPs in a roomy range without reading the claims made before', async () => {
    const store = new ClaimStore();
    const a = allocator(store);
    const ips = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const svc = service(`s${i}`);
      await a.allocate(svc, ctx);
      ips.add((svc.spec as { clusterIP: string }).clusterIP);
    }
    expect(ips.size).toBe(200);
    expect(ips.has(a.apiServiceIp)).toBe(false);
    expect(store.lists).toBe(0);
  });

  it('finds the last free addresses of a nearly full range by reading the claims, and says when it is full', async () => {
    const store = new ClaimStore();
    // 14 addresses: the kubernetes Service's and kube-dns's are not handed out, 12 are.
    const a = allocator(store, { serviceCidr: '10.1.0.0/28' });
    const ips: string[] = [];
    for (let i = 0; i < 12; i++) {
      const svc = service(`s${i}`);
      await a.allocate(svc, ctx);
      ips.push((svc.spec as { clusterIP: string }).clusterIP);
    }
    expect(new Set(ips).size).toBe(12);
    expect(ips).not.toContain(a.apiServiceIp);
    expect(ips).not.toContain(a.dnsServiceIp);
    await expect(a.allocate(service('one-too-many'), ctx)).rejects.toThrow('range 10.1.0.0/28 is full');
    // Only the claims can say the range is full (the random picks before them may, by chance,
    // have found every last free address without a read).
    expect(store.lists).toBeGreaterThan(0);
  });

  it('hands out every NodePort of a small range once, then refuses', async () => {
    const store = new ClaimStore();
    const a = allocator(store, { nodePortRange: [30000, 30002] });
    const ports: number[] = [];
    for (let i = 0; i < 3; i++) {
      const svc = service(`np${i}`, { type: 'NodePort' });
      await a.allocate(svc, ctx);
      ports.push((svc.spec as { ports: { nodePort: number }[] }).ports[0].nodePort);
    }
    expect(ports.sort()).toEqual([30000, 30001, 30002]);
    await expect(a.allocate(service('np3', { type: 'NodePort' }), ctx)).rejects.toThrow(
      'range 30000-30002 is full',
    );
  });
});
