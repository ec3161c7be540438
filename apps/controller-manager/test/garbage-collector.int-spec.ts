import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type NatsConnection } from '@nats-io/transport-node';

import { ResourceRegistry } from '@app/api';
import { ApiClient } from '@app/client';
import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';

import { ClusterConnections } from '../../api-server/src/cluster-connections.js';
import { GarbageCollector } from '../src/garbage-collector/garbage-collector.js';

interface Meta {
  name: string;
  resourceVersion: string;
  namespace?: string;
  uid: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  ownerReferences?: { uid: string; blockOwnerDeletion?: boolean }[];
}
interface Obj {
  metadata: Meta;
}
interface Ref {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

const KUBECTL = 33;

describe('garbage collector through the real API server, log, bus and kubectl', () => {
  let cluster: ApiCluster;
  let nats: NatsConnection;
  let client: ApiClient;
  let gc: GarbageCollector;
  const troubles: Error[] = [];
  let nsCount = 0;

  beforeAll(async () => {
    cluster = await startApiCluster();
    client = new ApiClient(cluster.connection, { userAgent: 'garbage-collector-test' });
    nats = await connect({ servers: cluster.natsUrl });
    gc = new GarbageCollector(client, nats, new ResourceRegistry(), {
      workers: 4,
      backoffMs: [50, 1000],
      redactedPollMs: 200,
      onTrouble: (e) => troubles.push(e),
    });
    await gc.start();
  });
  afterAll(async () => {
    await gc?.stop();
    await nats?.close();
    client?.close();
    await cluster?.close();
  });

  /** The log itself, to read each write's recorded cause. */
  const events = () => cluster.server.app.get(ClusterConnections).store.events;
  const namespace = async () => {
    const ns = `gc-${++nsCount}`;
    expect((await cluster.api('POST', '/api/v1/namespaces', { metadata: { name: ns } })).status).toBe(201);
    return ns;
  };
  const create = async (path: string, body: unknown): Promise<Obj> => {
    const r = await cluster.api<Obj>('POST', path, body);
    expect(r.status).toBe(201);
    return r.body;
  };
  const replicaSet = (ns: string, name: string) =>
    create(`/apis/apps/v1/namespaces/${ns}/replicasets`, {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name: 'c', image: 'busybox' }] },
        },
      },
    });
  const configMap = (ns: string, name: string, owners: Ref[] = []) =>
    create(`/api/v1/namespaces/${ns}/configmaps`, {
      metadata: { name, ownerReferences: owners.length ? owners : undefined },
      data: { k: 'v' },
    });
  const pod = (ns: string, name: string, owners: Ref[], finalizers?: string[]) =>
    create(`/api/v1/namespaces/${ns}/pods`, {
      metadata: { name, ownerReferences: owners, finalizers },
      spec: { containers: [{ name: 'c', image: 'busybox' }] },
    });
  const rsRef = (o: Obj, block?: boolean): Ref => ({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    name: o.metadata.name,
    uid: o.metadata.uid,
    controller: true,
    ...(block !== undefined ? { blockOwnerDeletion: block } : {}),
  });
  const ref = (apiVersion: string, kind: string, o: Obj): Ref => ({
    apiVersion,
    kind,
    name: o.metadata.name,
    uid: o.metadata.uid,
  });
  const get = async (path: string): Promise<Obj | undefined> => {
    const r = await cluster.api<Obj>('GET', path);
    if (r.status === 404) return undefined;
    expect(r.status).toBe(200);
    return r.body;
  };
  const gone = (path: string, timeoutMs = 30_000) =>
    waitFor(`${path} gone`, async () => ((await get(path)) === undefined ? true : undefined), { timeoutMs });
  const podPath = (ns: string, name: string) => `/api/v1/namespaces/${ns}/pods/${name}`;
  const rsPath = (ns: string, name: string) => `/apis/apps/v1/namespaces/${ns}/replicasets/${name}`;
  const cmPath = (ns: string, name: string) => `/api/v1/namespaces/${ns}/configmaps/${name}`;
  /**
   * A pod whose only owner never existed: once the collector has deleted it, it has also had
   * its chance at everything queued before — what lets a test assert that something stayed.
   */
  const sentinel = async (ns: string, name: string) => {
    await pod(ns, name, [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'never', uid: `never-${name}` }]);
    await gone(podPath(ns, name));
  };

  it('Background: deleting the owner deletes its dependents, and theirs down the chain', async () => {
    const ns = await namespace();
    const rs = await replicaSet(ns, 'web');
    const p1 = await pod(ns, 'web-1', [rsRef(rs)]);
    await pod(ns, 'web-2', [rsRef(rs)]);
    await configMap(ns, 'of-web-1', [ref('v1', 'Pod', p1)]);

    const r = await cluster.kubectl(KUBECTL, ['delete', 'rs', 'web', '-n', ns]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // Background: the owner is gone at once, no finalizer held it.
    expect(await get(rsPath(ns, 'web'))).toBeUndefined();
    await gone(podPath(ns, 'web-1'));
    await gone(podPath(ns, 'web-2'));
    await gone(cmPath(ns, 'of-web-1'));

    // Each deletion names the one that caused it: the ReplicaSet's for the pods, web-1's for its ConfigMap.
    const deletedAfter = async (seq: number) =>
      (await events().after(seq)).filter((e) => e.type === 'DELETED' && e.namespace === ns);
    const deletions = await deletedAfter(Number(rs.metadata.resourceVersion));
    const seqOf = (name: string) => deletions.find((e) => e.name === name)?.seq;
    const named = async (seq: number | undefined) =>
      seq === undefined ? [] : (await events().causedBy(seq)).map((e) => `${e.type} ${e.name}`).sort();
    expect(await named(seqOf('web'))).toEqual(['DELETED web-1', 'DELETED web-2']);
    expect(await named(seqOf('web-1'))).toEqual(['DELETED of-web-1']);
  });

  it('Foreground (kubectl --cascade=foreground): the owner waits with its finalizer for its blocking dependents', async () => {
    const ns = await namespace();
    const rs = await replicaSet(ns, 'fg');
    // The held pod keeps a finalizer of its own, so the test sees the owner waiting for it.
    await pod(ns, 'held', [rsRef(rs, true)], ['example.com/hold']);
    await pod(ns, 'free', [rsRef(rs, false)]);

    const r = await cluster.kubectl(KUBECTL, [
      'delete',
      'rs',
      'fg',
      '-n',
      ns,
      '--cascade=foreground',
      '--wait=false',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);

    // Every dependent is deleted; the held one stays, being deleted, until its finalizer goes.
    await gone(podPath(ns, 'free'));
    const held = await waitFor('held pod being deleted', async () => {
      const p = await get(podPath(ns, 'held'));
      return p?.metadata.deletionTimestamp ? p : undefined;
    });
    expect(held.metadata.finalizers).toEqual(['example.com/hold']);
    const owner = await get(rsPath(ns, 'fg'));
    expect(owner?.metadata.deletionTimestamp).toBeDefined();
    expect(owner?.metadata.finalizers).toContain('foregroundDeletion');

    const release = await cluster.api(
      'PATCH',
      podPath(ns, 'held'),
      { metadata: { finalizers: null } },
      { 'content-type': 'application/merge-patch+json' },
    );
    expect(release.status).toBe(200);
    await gone(podPath(ns, 'held'));
    await gone(rsPath(ns, 'fg'));
  });

  it('Foreground down a chain: a dependent with dependents of its own is deleted in the foreground too', async () => {
    const ns = await namespace();
    const rs = await replicaSet(ns, 'chain');
    const mid = await pod(ns, 'mid', [rsRef(rs, true)]);
    await create(`/api/v1/namespaces/${ns}/configmaps`, {
      metadata: {
        name: 'leaf',
        finalizers: ['example.com/hold'],
        ownerReferences: [{ ...ref('v1', 'Pod', mid), blockOwnerDeletion: true }],
      },
    });

    const r = await cluster.kubectl(KUBECTL, [
      'delete',
      'rs',
      'chain',
      '-n',
      ns,
      '--cascade=foreground',
      '--wait=false',
    ]);
    expect(r.code).toBe(0);
    const marked = await waitFor('mid pod deleting in the foreground', async () => {
      const p = await get(podPath(ns, 'mid'));
      return p?.metadata.finalizers?.includes('foregroundDeletion') && p.metadata.deletionTimestamp
        ? p
        : undefined;
    });
    expect(marked.metadata.uid).toBe(mid.metadata.uid);
    await waitFor(
      'leaf being deleted',
      async () => (await get(cmPath(ns, 'leaf')))?.metadata.deletionTimestamp,
    );
    expect((await get(rsPath(ns, 'chain')))?.metadata.finalizers).toEqual(['foregroundDeletion']);

    const release = await cluster.api(
      'PATCH',
      cmPath(ns, 'leaf'),
      { metadata: { finalizers: null } },
      { 'content-type': 'application/merge-patch+json' },
    );
    expect(release.status).toBe(200);
    await gone(cmPath(ns, 'leaf'));
    await gone(podPath(ns, 'mid'));
    await gone(rsPath(ns, 'chain'));
  });

  it('Foreground with kubectl waiting: returns once the owner and its dependents are gone', async () => {
    const ns = await namespace();
    const rs = await replicaSet(ns, 'fgw');
    await pod(ns, 'fgw-1', [rsRef(rs, true)]);
    const r = await cluster.kubectl(KUBECTL, ['delete', 'rs', 'fgw', '-n', ns, '--cascade=foreground']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('replicaset.apps "fgw" deleted');
    expect(await get(podPath(ns, 'fgw-1'))).toBeUndefined();
    expect(await get(rsPath(ns, 'fgw'))).toBeUndefined();
  });

  it('Orphan (kubectl --cascade=orphan): the dependents stay without their reference, the owner goes', async () => {
    const ns = await namespace();
    const rs = await replicaSet(ns, 'orph');
    const other = await configMap(ns, 'other-owner');
    await pod(ns, 'orph-1', [rsRef(rs, true), ref('v1', 'ConfigMap', other)]);
    await pod(ns, 'orph-2', [rsRef(rs)]);

    const r = await cluster.kubectl(KUBECTL, ['delete', 'rs', 'orph', '-n', ns, '--cascade=orphan']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    await gone(rsPath(ns, 'orph'));
    const p1 = await get(podPath(ns, 'orph-1'));
    const p2 = await get(podPath(ns, 'orph-2'));
    expect(p1?.metadata.ownerReferences?.map((o) => o.uid)).toEqual([other.metadata.uid]);
    expect(p2?.metadata.ownerReferences).toBeUndefined();
    // Nothing queued later deletes them.
    await sentinel(ns, 'after-orphan');
    expect(await get(podPath(ns, 'orph-1'))).toBeDefined();
    expect(await get(podPath(ns, 'orph-2'))).toBeDefined();
  });

  it('a dependent of several owners goes only once all of them are absent', async () => {
    const ns = await namespace();
    const a = await configMap(ns, 'owner-a');
    const b = await configMap(ns, 'owner-b');
    await pod(ns, 'shared', [ref('v1', 'ConfigMap', a), ref('v1', 'ConfigMap', b)]);

    expect((await cluster.api('DELETE', cmPath(ns, 'owner-a'))).status).toBe(200);
    // A live owner keeps it; the reference to the absent one is dropped (upstream's solid+dangling case).
    const kept = await waitFor('reference to owner-a dropped', async () => {
      const p = await get(podPath(ns, 'shared'));
      return p?.metadata.ownerReferences?.length === 1 ? p : undefined;
    });
    expect(kept.metadata.ownerReferences?.[0].uid).toBe(b.metadata.uid);
    expect(kept.metadata.deletionTimestamp).toBeUndefined();

    expect((await cluster.api('DELETE', cmPath(ns, 'owner-b'))).status).toBe(200);
    await gone(podPath(ns, 'shared'));
  });

  it('an ownerReference to a uid that never existed is dangling: the dependent is deleted', async () => {
    const ns = await namespace();
    await configMap(ns, 'orphaned-from-birth', [
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: 'nobody',
        uid: '00000000-0000-0000-0000-00000000dead',
      },
    ]);
    await gone(cmPath(ns, 'orphaned-from-birth'));
  });

  it('a cluster-scoped owner (a Node) of a namespaced dependent', async () => {
    const ns = await namespace();
    const node = await create('/api/v1/nodes', { metadata: { name: `gc-node-${ns}` } });
    await pod(ns, 'on-node', [ref('v1', 'Node', node)]);
    await sentinel(ns, 'before-node-delete');
    expect(await get(podPath(ns, 'on-node'))).toBeDefined();

    expect((await cluster.api('DELETE', `/api/v1/nodes/gc-node-${ns}`)).status).toBe(200);
    await gone(podPath(ns, 'on-node'));
  });

  it('a reference to an owner in another namespace counts as absent; that owner is untouched', async () => {
    const home = await namespace();
    const away = await namespace();
    const owner = await configMap(home, 'elsewhere');
    await pod(away, 'cross', [ref('v1', 'ConfigMap', owner)]);
    await gone(podPath(away, 'cross'));
    const still = await get(cmPath(home, 'elsewhere'));
    expect(still?.metadata.uid).toBe(owner.metadata.uid);
  });

  it('Secrets, which the bus carries redacted, are owned and owners too (followed by listing)', async () => {
    const ns = await namespace();
    const owner = await create(`/api/v1/namespaces/${ns}/secrets`, {
      metadata: { name: 'owner' },
      stringData: { a: 'b' },
    });
    await create(`/api/v1/namespaces/${ns}/secrets`, {
      metadata: { name: 'owned', ownerReferences: [ref('v1', 'Secret', owner)] },
      stringData: { a: 'b' },
    });
    await configMap(ns, 'of-secret', [ref('v1', 'Secret', owner)]);
    expect((await cluster.api('DELETE', `/api/v1/namespaces/${ns}/secrets/owner`)).status).toBe(200);
    await gone(`/api/v1/namespaces/${ns}/secrets/owned`);
    await gone(cmPath(ns, 'of-secret'));
  });

  it('followed every deletable kind but Events, with no trouble on the way', () => {
    const kinds = GarbageCollector.monitoredKinds(new ResourceRegistry()).map(
      (t) => `${t.group}/${t.plural}`,
    );
    expect(kinds).toEqual(
      expect.arrayContaining(['/pods', 'apps/replicasets', '/nodes', '/configmaps', '/secrets']),
    );
    expect(kinds).not.toContain('/events');
    expect(kinds).not.toContain('events.k8s.io/events');
    expect(troubles).toEqual([]);
  });
});
